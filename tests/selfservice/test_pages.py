"""The default pages (`/ui/…`), in-process: which flows use them, what they render from a flow, and
that their forms post exactly what an API client would. tests/browser drives them in Chromium."""
from __future__ import annotations

import array
import struct
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template.loader import render_to_string
from django.test import Client

from kratos_project import clock
from kratos_project.surfaces import SURFACE_KEY
from selfservice import pages
from selfservice.flows.login import LOGIN
from selfservice.redirects import is_allowed
from selfservice.responses import error_ui_url
from selfservice.text import ui_text
from selfservice.ui import anchor_node, input_node, submit_node
from selfservice.ui_forms import forms_of
from tests.selfservice.conftest import HTML, path_of

PASSWORD = "correct horse battery staple"
BASE = "http://127.0.0.1:4433/"


class Page(HTMLParser):
    """The parts of a page the tests read: forms with their fields, elements by id, labels."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, str] = {}  # for= -> text
        self.tags: list[tuple[str, dict[str, Any]]] = []
        self._open: list[dict[str, Any]] = []  # elements collecting their text
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, **{k: ("" if v is None else v) for k, v in attrs}, "text": ""}
        self.tags.append((tag, element))
        if tag == "form":
            self.forms.append({**element, "fields": []})
        elif tag in ("input", "button") and self.forms:
            self.forms[-1]["fields"].append(element)
        if "id" in element:
            self.by_id[element["id"]] = element
        if tag not in ("input", "img", "meta"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            element = self._open.pop()
            if element["tag"] == "label":
                self.labels[element.get("for", "")] = element["text"].strip()
            if element["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def form_data(self, form: dict[str, Any], button: dict[str, Any], **typed: str) -> dict[str, str]:
        """What a browser posts: the form's fields (typed into by name) and the clicked button."""
        data = {f["name"]: typed.get(f["name"], f.get("value", "")) for f in form["fields"]
                if f["tag"] == "input" and f.get("name")}
        if button.get("name"):
            data[button["name"]] = button.get("value", "")
        return data


class Browser:
    """An HTML client with a cookie jar on the public port."""

    def __init__(self) -> None:
        self.client = Client(**{SURFACE_KEY: "public"})

    def get(self, url: str, **headers: str) -> Any:
        return self.client.get(path_of(url), HTTP_ACCEPT=HTML, **headers)

    def open(self, url: str, **headers: str) -> tuple[Any, Page]:
        """Follow redirects to the page at the end, as a browser does."""
        response = self.get(url, **headers)
        while response.status_code in (302, 303):
            response = self.get(response["Location"], **headers)
        assert response.status_code == 200, response.content
        return response, Page(response.content.decode())

    def submit(self, page: Page, form_index: int = 0, button: str = "method", **typed: str) -> Any:
        form = page.forms[form_index]
        clicked = next(f for f in form["fields"] if f["tag"] == "button" and f["name"] == button)
        return self.client.post(path_of(form["action"]), page.form_data(form, clicked, **typed), HTTP_ACCEPT=HTML)

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        _, page = self.open(f"{BASE}ui/login")
        response = self.submit(page, identifier=email, password=password)
        assert response.status_code == 303, response.content
        return response


@pytest.fixture
def browser(db: None) -> Browser:
    return Browser()


@pytest.mark.parametrize("flow", ["login", "registration", "recovery", "verification"])
def test_flows_without_a_ui_url_send_browsers_to_the_default_page(browser, kratos_env, flow):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_ENABLED="true", SELFSERVICE_FLOWS_VERIFICATION_ENABLED="true")

    response = browser.get(f"{BASE}self-service/{flow}/browser")

    assert response.status_code == 303
    assert response["Location"].startswith(f"{BASE}ui/{flow}?flow=")
    assert browser.get(response["Location"]).status_code == 200


def test_a_configured_ui_url_replaces_the_page(browser, kratos_env):
    kratos_env(SELFSERVICE_FLOWS_LOGIN_UI_URL="https://app.example.org/login")

    response = browser.get(f"{BASE}self-service/login/browser")

    assert response["Location"].startswith("https://app.example.org/login?flow=")
    page = browser.get(f"{BASE}ui/login")
    assert page.status_code == 404
    assert page.json()["error"]["code"] == 404
    assert browser.get(f"{BASE}self-service/registration/browser")["Location"].startswith(f"{BASE}ui/registration")


def test_pages_switched_off_are_unmounted_and_kratos_fallbacks_apply(settings):
    settings.KRATOS_DEFAULT_PAGES = False

    assert pages.urlpatterns() == []
    assert LOGIN.ui_url() == "https://www.ory.sh/kratos/docs/fallback/login"
    assert error_ui_url() == "https://www.ory.sh/kratos/docs/fallback/error"
    assert not is_allowed(f"{BASE}ui/settings")


def test_pages_on_are_allowed_return_urls():
    assert is_allowed(f"{BASE}ui/settings?flow=1")
    assert not is_allowed("http://127.0.0.1:4433/uix")


def test_a_page_without_a_flow_starts_one_keeping_return_to(browser):
    response = browser.get(f"{BASE}ui/login?return_to={BASE}ui/&refresh=true")

    assert response.status_code == 303
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{BASE}self-service/login/browser"
    assert parse_qs(target.query) == {"return_to": [f"{BASE}ui/"], "refresh": ["true"]}


def test_the_login_page_renders_every_node_of_the_flow(browser):
    _, page = browser.open(f"{BASE}ui/login")
    flow_id = parse_qs(urlsplit(page.forms[0]["action"]).query)["flow"][0]
    flow = browser.client.get("/self-service/login/flows", {"id": flow_id}, HTTP_ACCEPT="application/json").json()

    [form] = page.forms
    assert (form["action"], form["method"]) == (flow["ui"]["action"], "POST")
    fields = {(f["name"], f.get("type")): f for f in form["fields"]}
    assert set(fields) == {("csrf_token", "hidden"), ("identifier", "text"), ("password", "password"),
                           ("method", "submit")}
    assert fields["csrf_token", "hidden"]["value"] == next(
        n["attributes"]["value"] for n in flow["ui"]["nodes"] if n["attributes"]["name"] == "csrf_token")
    assert fields["method", "submit"]["value"] == "password"
    assert fields["method", "submit"]["text"] == "Sign in with password"
    identifier = fields["identifier", "text"]
    assert page.labels[identifier["id"]].startswith("E-Mail") and "required" in identifier
    assert fields["password", "password"]["autocomplete"] == "current-password"
    assert ("meta", {"tag": "meta", "name": "viewport", "content": "width=device-width, initial-scale=1",
                     "text": ""}) in page.tags


def test_the_page_form_posts_what_an_api_client_would(browser, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)

    response = browser.sign_in("ada@example.org")

    assert response["Location"] == "http://127.0.0.1:4455/"  # selfservice.default_browser_return_url
    whoami = browser.client.get("/sessions/whoami", HTTP_ACCEPT="application/json")
    assert whoami.json()["identity"]["traits"]["email"] == "ada@example.org"


def test_a_field_error_is_tied_to_its_field_and_focused(browser, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    _, page = browser.open(f"{BASE}ui/registration")
    response = browser.submit(page, **{"traits.email": "grace@example.org"})
    _, page = browser.open(response["Location"])  # the password step

    response = browser.submit(page, password="short")
    _, page = browser.open(response["Location"])

    password = next(f for f in page.forms[0]["fields"] if f.get("name") == "password")
    assert password["aria-invalid"] == "true" and "autofocus" in password
    hint = page.by_id[password["aria-describedby"]]
    assert "at least 8 characters" in hint["text"] and hint["data-message-id"] == "4000032"


def test_flow_messages_come_first_with_their_role(browser, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    _, page = browser.open(f"{BASE}ui/login")

    response = browser.submit(page, identifier="ada@example.org", password="wrong password")
    _, page = browser.open(response["Location"])

    [alert] = [e for tag, e in page.tags if e.get("role") == "alert"]
    assert alert["data-message-id"] == "4000006" and "credentials are invalid" in alert["text"]


def test_an_expired_flow_opens_the_error_page_which_starts_again(browser):
    response = browser.get(f"{BASE}self-service/login/browser")
    clock.advance(timedelta(hours=1, seconds=1))

    error = browser.get(response["Location"])

    assert error.status_code == 303 and error["Location"].startswith(f"{BASE}ui/error?id=")
    _, page = browser.open(error["Location"])
    assert "expired" in [e for _, e in page.tags if e.get("role") == "alert"][0]["text"]
    [again] = [e for tag, e in page.tags if tag == "a" and e["text"] == "Start again"]
    assert again["href"] == f"{BASE}self-service/login/browser"


def test_an_unknown_flow_starts_a_new_one(browser):
    response = browser.get(f"{BASE}ui/login?flow=00000000-0000-0000-0000-000000000000")

    assert response.status_code == 303 and response["Location"] == f"{BASE}self-service/login/browser"


def test_another_browsers_flow_is_refused(browser):
    flow_url = browser.get(f"{BASE}self-service/login/browser")["Location"]

    response = Browser().get(flow_url)

    assert response.status_code == 303 and response["Location"].startswith(f"{BASE}ui/error?id=")


def test_settings_signed_out_signs_in_first(browser, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    browser.sign_in("ada@example.org")
    flow_url = browser.get(f"{BASE}self-service/settings/browser")["Location"]

    response = Browser().get(flow_url)

    assert response.status_code == 303
    assert response["Location"].startswith(f"{BASE}self-service/login/browser?")
    assert parse_qs(urlsplit(response["Location"]).query)["return_to"] == [f"{BASE}self-service/settings/browser"]


def test_home_signed_out_signs_in_first(browser):
    response = browser.get(f"{BASE}ui/")

    assert response.status_code == 303
    assert parse_qs(urlsplit(response["Location"]).query)["return_to"] == [f"{BASE}ui/"]


def test_home_lists_the_sessions_and_revokes_another(browser, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    laptop = Browser()
    laptop.sign_in("ada@example.org")
    browser.sign_in("ada@example.org")

    _, page = browser.open(f"{BASE}ui/")

    items = [e for tag, e in page.tags if tag == "li" and "data-session-id" in e]
    assert len(items) == 2 and sum("This device" in e["text"] for e in items) == 1
    [revoke] = page.forms
    forged = browser.client.post(path_of(revoke["action"]), {"csrf_token": "not the token"}, HTTP_ACCEPT=HTML)
    assert forged.status_code == 403
    response = browser.client.post(path_of(revoke["action"]), page.form_data(revoke, revoke["fields"][-1]),
                                   HTTP_ACCEPT=HTML)
    assert response.status_code == 303 and response["Location"] == f"{BASE}ui/"
    assert laptop.client.get("/sessions/whoami", HTTP_ACCEPT="application/json").status_code == 401
    assert browser.client.get("/sessions/whoami", HTTP_ACCEPT="application/json").status_code == 200


def test_any_node_type_renders_without_template_changes():
    """A strategy added later (TOTP, WebAuthn, a captcha) shows up on the pages as it is."""
    qr = {"type": "img", "group": "totp", "attributes": {"src": "data:image/png;base64,iVBO", "id": "totp_qr",
          "width": 256, "height": 256, "node_type": "img"}, "messages": [], "meta": {"label": ui_text(1050005)}}
    secret = {"type": "text", "group": "totp", "attributes": {"text": ui_text(1050006, secret="JBSWY3DP"),
              "id": "totp_secret_key", "node_type": "text"}, "messages": [], "meta": {"label": ui_text(1050017)}}
    script = {"type": "script", "group": "webauthn", "attributes": {
        "src": f"{BASE}.well-known/ory/webauthn.js", "async": True, "referrerpolicy": "no-referrer",
        "crossorigin": "anonymous", "integrity": "sha512-abc", "type": "text/javascript", "id": "webauthn_script",
        "nonce": "n0nce", "node_type": "script"}, "messages": [], "meta": {}}
    trigger = input_node("webauthn_register_trigger", "webauthn", type="button", value='{"publicKey":{}}',
                         label=ui_text(1050012))
    trigger["attributes"]["onclickTrigger"] = "oryWebAuthnRegistration"
    captcha = {"type": "div", "group": "captcha", "attributes": {"id": "captcha", "class": "widget",
               "data": {"sitekey": "k"}, "node_type": "div"}, "messages": [], "meta": {}}
    consent = input_node("traits.newsletter", "profile", type="checkbox", value=True, label=ui_text(1070002,
                         title="Newsletter", name="traits.newsletter"))
    ui = {"action": f"{BASE}self-service/settings?flow=1", "method": "POST", "nodes": [
        input_node("csrf_token", "default", type="hidden", value="t0ken"), qr, secret,
        submit_node("method", "totp", "totp", ui_text(1050011)), script, trigger, captcha, consent,
        anchor_node("continue", "https://app.example.org/", "code", ui_text(1070009)),
    ]}

    html = render_to_string("pages/flow.html", {"title": "t", "ui": ui, "forms": forms_of(ui), "titled": True,
                                                "has_script": True})
    page = Page(html)

    assert [f["action"] for f in page.forms] == [ui["action"]] * 5  # totp, webauthn, captcha, profile, code
    assert all(f["fields"][0]["name"] == "csrf_token" for f in page.forms)  # each form posts the token
    assert page.by_id["totp-totp_qr"]["tag"] == "figure"
    assert ("img", {"tag": "img", "src": "data:image/png;base64,iVBO", "width": "256", "height": "256",
                    "alt": "Authenticator app QR code", "text": ""}) in page.tags
    assert "JBSWY3DP" in page.by_id["totp-totp_secret_key"]["text"]
    [script_tag] = [e for tag, e in page.tags if tag == "script" and e.get("src")]
    assert (script_tag["integrity"], script_tag["nonce"], script_tag["crossorigin"]) == ("sha512-abc", "n0nce",
                                                                                       "anonymous")
    button = page.by_id["webauthn-webauthn_register_trigger"]
    assert (button["type"], button["data-ory-onclick"]) == ("button", "oryWebAuthnRegistration")
    assert "data-ory-onclick" in html.split("<script>")[1]  # the inline wiring is there
    assert page.by_id["captcha-captcha"]["data-sitekey"] == "k"
    checkbox = page.by_id["profile-traits.newsletter"]
    assert (checkbox["type"], checkbox["value"], "checked" in checkbox) == ("checkbox", "true", True)
    assert page.labels["profile-traits.newsletter"] == "Newsletter"
    assert page.by_id["code-continue"]["href"] == "https://app.example.org/"


def _write_mo(path: Path, catalogue: dict[str, str]) -> None:
    """A compiled gettext catalogue (what `compilemessages` writes), without needing GNU gettext."""
    entries = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **catalogue}.items())
    ids = strs = b""
    offsets = []
    for msgid, msgstr in entries:
        offsets.append((len(ids), len(msgid.encode()), len(strs), len(msgstr.encode())))
        ids += msgid.encode() + b"\0"
        strs += msgstr.encode() + b"\0"
    keys_start = 7 * 4 + 16 * len(entries)
    table = [x for o1, l1, _, _ in offsets for x in (l1, o1 + keys_start)]
    table += [x for _, _, o2, l2 in offsets for x in (l2, o2 + keys_start + len(ids))]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(entries), 7 * 4, 7 * 4 + 8 * len(entries), 0, 0)
    path.parent.mkdir(parents=True)
    path.write_bytes(header + array.array("i", table).tobytes() + ids + strs)


def test_texts_are_translated_by_kratos_message_id(browser, settings, tmp_path, identity_factory):
    _write_mo(tmp_path / "de" / "LC_MESSAGES" / "django.mo", {
        "kratos:1010022": "Mit Passwort anmelden",
        "kratos:4000032": "Mindestens {min_length} Zeichen, nicht {actual_length}.",
        "Sign in": "Anmelden",
    })
    settings.LOCALE_PATHS = [tmp_path]
    _, page = browser.open(f"{BASE}ui/registration", HTTP_ACCEPT_LANGUAGE="de")
    response = browser.submit(page, **{"traits.email": "grace@example.org"})
    response = browser.submit(browser.open(response["Location"])[1], password="short")

    _, german = browser.open(response["Location"], HTTP_ACCEPT_LANGUAGE="de")
    _, login = browser.open(f"{BASE}ui/login", HTTP_ACCEPT_LANGUAGE="de")
    _, english = browser.open(f"{BASE}ui/login")

    hint = next(e for e in german.by_id.values() if e.get("data-message-id") == "4000032")
    assert hint["text"].strip() == "Mindestens 8 Zeichen, nicht 5."
    assert login.tags[0][1]["lang"] == "de"
    assert [e["text"] for tag, e in login.tags if tag == "h1"] == ["Anmelden"]
    assert login.forms[0]["fields"][-1]["text"] == "Mit Passwort anmelden"
    assert english.forms[0]["fields"][-1]["text"] == "Sign in with password"
