"""The verification flow by code and by link, for browser, SPA and api clients, with mail delivered
over SMTP by the courier; and the verification hooks of registration and settings."""
from __future__ import annotations

import re
from datetime import timedelta

import ory_kratos_client
import pytest

from courier.models import Message
from kratos_project import clock
from kratos_project.surfaces import SURFACE_KEY
from kratos_project.tenancy import bind_network, default_nid
from tests.selfservice.conftest import HTML, Flows, node_value

PASSWORD = "correct horse battery staple"
CONTINUE = {"id": 1070009, "text": "Continue", "type": "info"}


@pytest.fixture
def enabled(kratos_env, db):
    kratos_env(SELFSERVICE_FLOWS_VERIFICATION_ENABLED="true",
               SELFSERVICE_FLOWS_VERIFICATION_UI_URL="http://127.0.0.1:4455/verification")


@pytest.fixture
def ada(identity_factory):
    return identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)


def names(flow: dict) -> list[tuple[str, str]]:
    return [(n["attributes"].get("name") or n["attributes"]["id"], n["attributes"].get("type", n["type"]))
            for n in flow["ui"]["nodes"]]


def shown(flows: Flows, flow: dict, response) -> dict:
    """A recovery/verification step: 303 to the UI for HTML browsers, else 200 with the flow."""
    if flows.kind == "browser":
        assert response.status_code == 303, response.content
        assert response["Location"] == f"http://127.0.0.1:4455/verification?flow={flow['id']}"
        return flows.fetch(flow["id"], "verification")
    assert response.status_code == 200, response.content
    return response.json()


def replacement_of(flows: Flows, response, error_id: str) -> str:
    """The id of the flow that replaced a refused one: behind the browser's redirect, or the 410's
    `use_flow_id` (whose error is `error_id`)."""
    if flows.kind == "browser":
        assert response.status_code == 303
        return response["Location"].split("flow=")[1]
    assert response.status_code == 410 and response.json()["error"]["id"] == error_id
    return response.json()["use_flow_id"]


def address_of(admin_api, identity: dict) -> dict:
    return admin_api.call("GET", f"/admin/identities/{identity['id']}").json()["verifiable_addresses"][0]


def test_disabled_verification_is_a_plain_400(flows):
    response = flows.init("verification")

    if flows.kind == "browser":  # to the error UI
        assert response.status_code == 303
        assert response["Location"].startswith("http://127.0.0.1:4433/ui/error?id=")  # the default error page
        return
    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "status": "Bad Request",
                                         "reason": "Verification is not allowed because it was disabled.",
                                         "message": "The request was malformed or contained invalid parameters"}}


def test_a_new_flow_asks_for_an_email(flows, enabled):
    flow = flows.start("verification")

    expected = [("email", "email"), ("method", "submit")] + ([] if flows.kind == "api" else [("csrf_token", "hidden")])
    assert names(flow) == expected
    assert flow["state"] == "choose_method" and flow["active"] == "code"
    assert flow["ui"]["action"] == f"http://127.0.0.1:4433/self-service/verification?flow={flow['id']}"
    assert flow["ui"]["nodes"][0] == {
        "type": "input", "group": "code", "messages": [],
        "meta": {"label": {"id": 1070007, "text": "Email", "type": "info"}},
        "attributes": {"name": "email", "type": "email", "required": True, "disabled": False, "node_type": "input"}}
    assert "organization_id" not in flow


def test_a_code_verifies_the_address(flows, enabled, ada, mailbox, admin_api):
    flow = flows.start("verification")

    sent = shown(flows, flow, flows.submit(flow, method="code", email="ADA@example.org"))
    code = mailbox.code("ada@example.org")
    done = shown(flows, flow, flows.submit(sent, method="code", code=code))

    assert sent["state"] == "sent_email"
    assert sent["ui"]["messages"][0]["id"] == 1080003
    csrf = [] if flows.kind == "api" else [("csrf_token", "hidden")]
    assert names(sent) == [("method", "hidden"), ("code", "text"), ("method", "submit"), *csrf, ("email", "submit")]
    assert node_value(sent, "email") == "ADA@example.org"
    link = re.findall(r"http://\S+", mailbox.text("ada@example.org"))[0]
    assert link == f"http://127.0.0.1:4433/self-service/verification?code={code}&flow={flow['id']}"
    assert done["state"] == "passed_challenge"
    assert done["ui"]["method"] == "GET" and done["ui"]["action"] == "http://127.0.0.1:4455/"
    assert done["ui"]["messages"] == [{"id": 1080002, "text": "You successfully verified your email address.",
                                       "type": "success"}]
    assert done["ui"]["nodes"][0]["attributes"]["name"] == "csrf_token"
    assert done["ui"]["nodes"][1] == {"type": "a", "group": "code", "messages": [], "meta": {"label": CONTINUE},
                                      "attributes": {"href": "http://127.0.0.1:4455/", "title": CONTINUE,
                                                     "id": "continue", "node_type": "a"}}
    address = address_of(admin_api, ada)
    assert address["verified"] is True and address["status"] == "completed" and address["verified_at"]
    for shape in (flow, sent, done):  # what Ory's SDK must be able to read
        ory_kratos_client.VerificationFlow.from_dict(shape)


def test_the_continue_link_goes_to_return_to(enabled, ada, mailbox, kratos_env):
    kratos_env(SELFSERVICE_ALLOWED_RETURN_URLS="http://127.0.0.1:4455/")
    spa = Flows("spa")
    flow = spa.start("verification", return_to="http://127.0.0.1:4455/welcome")
    spa.submit(flow, method="code", email="ada@example.org")

    done = spa.submit(flow, method="code", code=mailbox.code("ada@example.org")).json()

    assert done["ui"]["action"] == "http://127.0.0.1:4455/welcome"
    assert done["ui"]["nodes"][1]["attributes"]["href"] == "http://127.0.0.1:4455/welcome"


def test_an_unknown_address_reads_the_same_and_gets_no_mail(flows, enabled, ada, mailbox):
    first, second = flows.start("verification"), flows.start("verification")

    known = shown(flows, first, flows.submit(first, method="code", email="ada@example.org"))
    unknown = shown(flows, second, flows.submit(second, method="code", email="nobody@example.org"))

    assert names(known) == names(unknown) and known["ui"]["messages"] == unknown["ui"]["messages"]
    assert known["state"] == unknown["state"] == "sent_email"
    assert [m["To"] for m in mailbox.deliver()] == ["ada@example.org"]


def test_strangers_are_told_only_with_notify_unknown_recipients(enabled, kratos_env, mailbox):
    kratos_env(SELFSERVICE_FLOWS_VERIFICATION_NOTIFY_UNKNOWN_RECIPIENTS="true")
    app = Flows("api")
    flow = app.start("verification")

    app.submit(flow, method="code", email="nobody@example.org")

    assert [m["To"] for m in mailbox.deliver()] == ["nobody@example.org"]
    with bind_network(default_nid()):
        assert Message.objects.get().template_type == "verification_code_invalid"
    assert not re.search(r"\b\d{6}\b", mailbox.text("nobody@example.org"))


def test_a_missing_or_malformed_email_is_a_message_on_the_node(flows, enabled):
    flow = flows.start("verification")

    response = flows.submit(flow, method="code", email="not an address")

    invalid = flows.shown(flow, response, "verification")
    assert response.status_code == (303 if flows.kind == "browser" else 400)
    email = next(n for n in invalid["ui"]["nodes"] if n["attributes"]["name"] == "email")
    assert email["messages"] == [{"id": 4000040, "text": "Enter a valid email address", "type": "error",
                                  "context": {"value": "not an address"}}]
    assert email["attributes"]["value"] == "not an address"


def test_a_wrong_code_is_refused(flows, enabled, ada, mailbox, admin_api):
    flow = flows.start("verification")
    sent = shown(flows, flow, flows.submit(flow, method="code", email="ada@example.org"))
    code = mailbox.code("ada@example.org")

    wrong = shown(flows, flow, flows.submit(sent, method="code", code=f"{(int(code) + 1) % 1_000_000:06d}"))

    assert wrong["state"] == "sent_email"
    assert wrong["ui"]["messages"] == [{"id": 4070006, "type": "error",
                                        "text": "The verification code is invalid or has already been used. "
                                                "Please try again."}]
    assert address_of(admin_api, ada)["verified"] is False


def test_the_attempt_limit_stops_a_brute_force(flows, enabled, ada, mailbox, admin_api):
    flow = flows.start("verification")
    sent = shown(flows, flow, flows.submit(flow, method="code", email="ada@example.org"))
    code = mailbox.code("ada@example.org")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(5):
        assert shown(flows, flow, flows.submit(sent, method="code", code=wrong))["ui"]["messages"][0]["id"] == 4070006
    sixth = flows.submit(sent, method="code", code=code)

    replacement_id = replacement_of(flows, sixth, "self_service_flow_replaced")
    if flows.kind != "browser":
        body = sixth.json()
        assert body["error"]["reason"] == "An error occured, please retry the flow."
        assert ory_kratos_client.ErrorFlowReplaced.from_dict(body).use_flow_id == body["use_flow_id"]
    replacement = flows.fetch(replacement_id, "verification")
    assert replacement_id != flow["id"] and replacement["state"] == "choose_method"
    assert replacement["ui"]["messages"] == [{
        "id": 4000001, "type": "error", "text": "The request was submitted too often. Please request another code.",
        "context": {"reason": "The request was submitted too often. Please request another code."}}]
    assert address_of(admin_api, ada)["verified"] is False


def test_a_code_works_once(enabled, ada, mailbox):
    app = Flows("api")
    flow = app.start("verification")
    app.submit(flow, method="code", email="ada@example.org")
    code = mailbox.code("ada@example.org")
    assert app.submit(flow, method="code", code=code).status_code == 200

    again = app.submit(flow, method="code", code=code)

    assert again.status_code == 410 and again.json()["error"]["id"] == "self_service_flow_replaced"
    assert app.fetch(again.json()["use_flow_id"], "verification")["ui"]["messages"][0]["id"] == 4070002


def test_a_resend_replaces_the_earlier_code(enabled, ada, mailbox):
    app = Flows("api")
    flow = app.start("verification")
    app.submit(flow, method="code", email="ada@example.org")
    first = mailbox.code("ada@example.org")
    mailbox.server.collector.envelopes.clear()
    app.submit(flow, method="code", email="ada@example.org")
    second = mailbox.code("ada@example.org")

    stale = app.submit(flow, method="code", code=first).json()
    fresh = app.submit(flow, method="code", code=second).json()

    assert stale["ui"]["messages"][0]["id"] == 4070006  # (flaky only if both codes are equal: p = 10^-6)
    assert fresh["state"] == "passed_challenge"


def test_an_expired_code_expires_the_flow(flows, enabled, ada, mailbox, kratos_env):
    kratos_env(SELFSERVICE_METHODS_CODE_CONFIG_LIFESPAN="10m")
    flow = flows.start("verification")
    sent = shown(flows, flow, flows.submit(flow, method="code", email="ada@example.org"))
    code = mailbox.code("ada@example.org")
    clock.advance(timedelta(minutes=11))

    response = flows.submit(sent, method="code", code=code)

    replacement_id = replacement_of(flows, response, "self_service_flow_expired")
    assert flows.fetch(replacement_id, "verification")["ui"]["messages"][0]["id"] == 4070005


def test_an_expired_flow_is_replaced_on_submit(flows, enabled):
    flow = flows.start("verification")
    clock.advance(timedelta(hours=1, seconds=1))

    response = flows.submit(flow, method="code", email="ada@example.org")

    assert response.status_code == 303
    location = response["Location"]
    if flows.kind == "browser":
        assert location.startswith("http://127.0.0.1:4455/verification?flow=")
    else:
        assert location.startswith("http://127.0.0.1:4433/self-service/verification/flows?id=")
    replacement = flows.fetch(re.split(r"[=]", location)[-1], "verification")
    assert replacement["ui"]["messages"][0]["id"] == 4070005


def test_an_expired_flow_fetched_is_a_410_without_id(flows, enabled):
    flow = flows.start("verification")
    clock.advance(timedelta(hours=1, seconds=1))

    response = flows.client.get("/self-service/verification/flows", {"id": flow["id"]}, HTTP_ACCEPT="application/json")

    assert response.status_code == 410
    assert "id" not in response.json()["error"] and "use_flow_id" not in response.json()


def test_the_emailed_link_fills_the_code_in_for_the_browser_that_opens_it(enabled, ada, mailbox, admin_api):
    app = Flows("api")
    flow = app.start("verification")
    app.submit(flow, method="code", email="ada@example.org")
    browser = Flows("browser")

    opened = browser.open(mailbox.link("ada@example.org"))
    filled = browser.fetch(flow["id"], "verification")
    done = browser.submit(filled, method="code", code=node_value(filled, "code"))

    assert opened.status_code == 303 and opened["Location"] == f"http://127.0.0.1:4455/verification?flow={flow['id']}"
    assert node_value(filled, "code") == mailbox.code("ada@example.org")
    assert done.status_code == 303
    assert address_of(admin_api, ada)["verified"] is True


@pytest.fixture
def by_link(enabled, kratos_env):
    kratos_env(SELFSERVICE_FLOWS_VERIFICATION_USE="link", SELFSERVICE_METHODS_LINK_ENABLED="true")


def test_a_link_verifies_the_address(flows, by_link, ada, mailbox, admin_api):
    flow = flows.start("verification")

    sent = shown(flows, flow, flows.submit(flow, method="link", email="ada@example.org"))
    link = mailbox.link("ada@example.org")
    browser = Flows("browser")
    opened = browser.open(link)

    assert flow["active"] == "link" and sent["ui"]["messages"][0]["id"] == 1080001
    assert link.startswith(f"http://127.0.0.1:4433/self-service/verification?flow={flow['id']}&token=")
    assert opened.status_code == 303 and opened["Location"] == f"http://127.0.0.1:4455/verification?flow={flow['id']}"
    done = browser.fetch(flow["id"], "verification")
    assert done["state"] == "passed_challenge" and done["ui"]["messages"][0]["id"] == 1080002
    assert address_of(admin_api, ada)["verified"] is True


def test_a_link_works_once(by_link, ada, mailbox):
    app = Flows("api")
    flow = app.start("verification")
    app.submit(flow, method="link", email="ada@example.org")
    link = mailbox.link("ada@example.org")
    browser = Flows("browser")
    browser.open(link)

    again = browser.open(link)

    assert again.status_code == 303
    replacement_id = again["Location"].split("flow=")[1]
    assert replacement_id != flow["id"]
    assert browser.fetch(replacement_id, "verification")["ui"]["messages"][0]["id"] == 4070001


# --- hooks ------------------------------------------------------------------------------------


@pytest.fixture
def register_with_verification_ui(enabled, kratos_env):
    kratos_env(SELFSERVICE_FLOWS_REGISTRATION_STYLE="unified",
               SELFSERVICE_FLOWS_REGISTRATION_AFTER_PASSWORD_HOOKS=(
                   '[{"hook": "session"}, {"hook": "show_verification_ui"}]'))


def test_registration_sends_a_code_and_shows_the_verification_ui(flows, register_with_verification_ui, mailbox,
                                                                admin_api):
    flow = flows.start("registration")

    response = flows.submit(flow, method="password", password=PASSWORD, traits={"email": "ada@example.org"})

    code = mailbox.code("ada@example.org")
    if flows.kind == "browser":
        assert response.status_code == 303
        assert response["Location"].startswith("http://127.0.0.1:4455/verification?flow=")
        verification_id = response["Location"].split("flow=")[1]
    else:
        assert response.status_code == 200, response.content
        body = response.json()
        item = next(c for c in body["continue_with"] if c["action"] == "show_verification_ui")
        verification_id = item["flow"]["id"]
        assert item["flow"]["verifiable_address"] == "ada@example.org"
        actions = [c["action"] for c in body["continue_with"]]
        if flows.kind == "api":
            assert actions == ["show_verification_ui", "set_ory_session_token"] and "url" not in item["flow"]
            flows.session_token = body["session_token"]
        else:
            assert actions == ["redirect_browser_to", "show_verification_ui"]
            assert item["flow"]["url"] == f"http://127.0.0.1:4455/verification?flow={verification_id}"
    verification = flows.fetch(verification_id, "verification")
    assert verification["state"] == "sent_email"
    assert node_value(verification, "email") == "ada@example.org"
    done = flows.submit(verification, method="code", code=code)
    assert done.status_code == (303 if flows.kind == "browser" else 200)
    identity = admin_api.call("GET", "/admin/identities").json()[0]
    assert identity["verifiable_addresses"][0]["verified"] is True


@pytest.mark.parametrize("after", ["https://evil.example/", "http://[::1"])
def test_a_bad_after_verification_return_to_falls_back_to_the_default(register_with_verification_ui, mailbox, after):
    app = Flows("api")

    response = app.submit(app.start("registration", after_verification_return_to=after), method="password",
                          password=PASSWORD, traits={"email": "ada@example.org"})

    assert response.status_code == 200, response.content
    item = next(c for c in response.json()["continue_with"] if c["action"] == "show_verification_ui")
    assert "return_to" not in app.fetch(item["flow"]["id"], "verification")  # empty: the default URL
    assert len(mailbox.code("ada@example.org")) == 6


def test_registration_without_show_verification_ui_still_sends_the_code(enabled, kratos_env, mailbox):
    kratos_env(SELFSERVICE_FLOWS_REGISTRATION_STYLE="unified")
    app = Flows("api")

    response = app.submit(app.start("registration"), method="password", password=PASSWORD,
                          traits={"email": "ada@example.org"})

    assert response.status_code == 200 and response.json()["continue_with"] is None
    assert len(mailbox.code("ada@example.org")) == 6


def test_a_new_email_in_settings_is_sent_a_code(enabled, ada, mailbox, admin_api):
    spa = Flows("spa")
    spa.sign_in("ada@example.org", PASSWORD)
    settings = spa.start("settings")

    saved = spa.submit(settings, method="profile", traits={"email": "augusta@example.org"})

    assert saved.status_code == 200, saved.content
    assert [m["To"] for m in mailbox.deliver()] == ["augusta@example.org"]
    address = address_of(admin_api, ada)
    assert address["value"] == "augusta@example.org" and address["status"] == "sent"


def test_an_identity_of_another_network_is_not_found(enabled, mailbox, db):
    from identities.models import Network
    from identities.services import IdentityDraft, create_identity

    with bind_network(Network.objects.create().id):
        create_identity(IdentityDraft(schema_id="default", traits={"email": "ada@example.org"}))
    app = Flows("api")
    flow = app.start("verification")

    app.submit(flow, method="code", email="ada@example.org")

    assert mailbox.deliver() == []


def test_the_html_form_flow_end_to_end(enabled, ada, mailbox, admin_api):
    """The stock UI's way: form posts and redirects only, the code read from the email."""
    browser = Flows("browser")
    start = browser.client.get("/self-service/verification/browser", HTTP_ACCEPT=HTML)
    flow = browser.fetch(start["Location"].split("flow=")[1], "verification")

    browser.submit(flow, method="code", email="ada@example.org")
    response = browser.submit(browser.fetch(flow["id"], "verification"), method="code",
                              code=mailbox.code("ada@example.org"))

    assert response.status_code == 303
    assert address_of(admin_api, ada)["verified"] is True


def test_the_admin_surface_does_not_serve_verification(enabled):
    from django.test import Client

    response = Client(**{SURFACE_KEY: "admin"}).get("/self-service/verification/api", HTTP_ACCEPT="application/json")

    assert response.status_code == 404
