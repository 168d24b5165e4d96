"""The recovery flow by code and by link, for browser, SPA and api clients, with mail delivered over
SMTP by the courier; and the admin recovery endpoints."""
from __future__ import annotations

import re
from datetime import timedelta

import ory_kratos_client
import pytest

from identities.models import Network
from identities.services import IdentityDraft, create_identity
from kratos_project import clock
from kratos_project.tenancy import bind_network
from tests.selfservice.conftest import HTML, Flows, node_value

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different horse entirely"
SETTINGS_UI = "http://127.0.0.1:4455/settings?flow="
RECOVERY_UI = "http://127.0.0.1:4455/recovery?flow="


@pytest.fixture
def enabled(kratos_env, db):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_ENABLED="true",
               SELFSERVICE_FLOWS_RECOVERY_UI_URL="http://127.0.0.1:4455/recovery",
               SELFSERVICE_FLOWS_SETTINGS_UI_URL="http://127.0.0.1:4455/settings")


@pytest.fixture
def transitions(kratos_env):
    kratos_env(FEATURE_FLAGS_USE_CONTINUE_WITH_TRANSITIONS="true")


@pytest.fixture
def ada(identity_factory):
    return identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)


def names(flow: dict) -> list[tuple[str, str]]:
    return [(n["attributes"]["name"], n["attributes"]["type"]) for n in flow["ui"]["nodes"]]


def shown(flows: Flows, flow: dict, response) -> dict:
    if flows.kind == "browser":
        assert response.status_code == 303, response.content
        assert response["Location"] == RECOVERY_UI + flow["id"]
        return flows.fetch(flow["id"], "recovery")
    assert response.status_code == 200, response.content
    return response.json()


def other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def restarted_flow(flows: Flows, response) -> dict:
    """A restarted recovery flow: Kratos redirects JSON clients to the new flow, browsers to its UI."""
    assert response.status_code == 303, response.content
    location = response["Location"]
    if flows.kind == "browser":
        assert location.startswith(RECOVERY_UI)
    else:
        assert location.startswith("http://127.0.0.1:4433/self-service/recovery/flows?id=")
    return flows.fetch(re.split("=", location)[-1], "recovery")


def test_disabled_recovery_is_a_plain_400(db):
    response = Flows("api").init("recovery")

    assert response.status_code == 400
    assert response.json()["error"] == {"code": 400, "status": "Bad Request",
                                        "reason": "Recovery is not allowed because it was disabled.",
                                        "message": "The request was malformed or contained invalid parameters"}


def test_a_new_flow_asks_for_an_email(flows, enabled):
    flow = flows.start("recovery")

    assert names(flow) == [("csrf_token", "hidden"), ("email", "email"), ("method", "submit")]
    assert flow["state"] == "choose_method" and flow["active"] == "code" and "organization_id" not in flow


def test_a_code_recovers_the_account(flows, enabled, ada, mailbox, transitions, admin_api):
    flow = flows.start("recovery")

    sent = shown(flows, flow, flows.submit(flow, method="code", email="ada@example.org"))
    code = mailbox.code("ada@example.org")
    response = flows.submit(sent, method="code", code=code)

    assert sent["state"] == "sent_email" and sent["ui"]["messages"][0]["id"] == 1060003
    assert names(sent) == [("csrf_token", "hidden"), ("code", "text"), ("method", "hidden"), ("method", "submit"),
                           ("email", "submit")]
    assert sent["ui"]["nodes"][1]["attributes"] == {"name": "code", "type": "text", "required": True,
                                                    "pattern": "[0-9]+", "disabled": False, "maxlength": 6,
                                                    "node_type": "input"}
    if flows.kind == "browser":
        assert response.status_code == 303 and response["Location"].startswith(SETTINGS_UI)
        assert "ory_kratos_session" in response.cookies
        settings_id = response["Location"].split("flow=")[1]
    else:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["state"] == "passed_challenge"
        items = body["continue_with"]
        if flows.kind == "api":
            assert items[0]["action"] == "set_ory_session_token"
            flows.session_token = items[0]["ory_session_token"]
        settings_id = items[-1]["flow"]["id"]
        assert items[-1] == {"action": "show_settings_ui",
                             "flow": {"id": settings_id, "url": SETTINGS_UI + settings_id}}
        ory_kratos_client.RecoveryFlow.from_dict(body)
    whoami = flows.whoami().json()
    assert whoami["identity"]["id"] == ada["id"]
    assert [m["method"] for m in whoami["authentication_methods"]] == ["code_recovery"]
    settings = flows.fetch(settings_id, "settings")
    assert settings["ui"]["messages"][0]["id"] == 1060001 and settings["state"] == "show_form"
    changed = flows.submit(settings, method="password", password=NEW_PASSWORD)
    assert changed.status_code == (303 if flows.kind == "browser" else 200), changed.content
    app = Flows("api")
    login = app.submit(app.start("login"), method="password", identifier="ada@example.org", password=NEW_PASSWORD)
    assert login.status_code == 200
    # Receiving the code proved the address, as Kratos's recovery marks it.
    assert admin_api.call("GET", f"/admin/identities/{ada['id']}").json()["verifiable_addresses"][0]["verified"]


def test_without_transitions_json_clients_are_sent_to_the_settings_ui(enabled, ada, mailbox):
    spa = Flows("spa")
    flow = spa.start("recovery")
    spa.submit(flow, method="code", email="ada@example.org")

    response = spa.submit(flow, method="code", code=mailbox.code("ada@example.org"))

    assert response.status_code == 422
    body = response.json()
    assert body["error"]["id"] == "browser_location_change_required"
    assert body["redirect_browser_to"].startswith(SETTINGS_UI)
    assert body["error"]["reason"] == f"In order to complete this flow please redirect the browser to: " \
                                      f"{body['redirect_browser_to']}"
    assert spa.whoami().status_code == 200  # the cookie came with the 422


def test_recovery_can_end_the_other_sessions(enabled, ada, mailbox, transitions, kratos_env):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_AFTER_HOOKS='[{"hook": "revoke_active_sessions"}]')
    elsewhere = Flows("api")
    elsewhere.sign_in("ada@example.org", PASSWORD)
    app = Flows("api")
    flow = app.start("recovery")
    app.submit(flow, method="code", email="ada@example.org")

    recovered = app.submit(flow, method="code", code=mailbox.code("ada@example.org")).json()

    app.session_token = recovered["continue_with"][0]["ory_session_token"]
    assert app.whoami().status_code == 200
    assert elsewhere.whoami().status_code == 401


def test_an_unknown_address_reads_the_same_and_gets_no_mail(flows, enabled, ada, mailbox):
    first, second = flows.start("recovery"), flows.start("recovery")

    known = flows.submit(first, method="code", email="ada@example.org")
    unknown = flows.submit(second, method="code", email="mallory@example.org")

    assert known.status_code == unknown.status_code
    known_flow, unknown_flow = shown(flows, first, known), shown(flows, second, unknown)
    assert names(known_flow) == names(unknown_flow)
    assert known_flow["ui"]["messages"] == unknown_flow["ui"]["messages"]
    assert sorted(known_flow) == sorted(unknown_flow)
    assert [m["To"] for m in mailbox.deliver()] == ["ada@example.org"]


def test_strangers_are_told_only_with_notify_unknown_recipients(enabled, kratos_env, mailbox):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_NOTIFY_UNKNOWN_RECIPIENTS="true")
    app = Flows("api")

    app.submit(app.start("recovery"), method="code", email="mallory@example.org")

    text = mailbox.text("mallory@example.org")
    assert not re.search(r"^\d{6}\s*$", text, re.MULTILINE)


def test_a_wrong_code_is_refused(flows, enabled, ada, mailbox):
    flow = flows.start("recovery")
    sent = shown(flows, flow, flows.submit(flow, method="code", email="ada@example.org"))

    wrong = shown(flows, flow, flows.submit(sent, method="code", code=other(mailbox.code("ada@example.org"))))

    assert wrong["state"] == "sent_email"
    assert wrong["ui"]["messages"] == [{
        "id": 4060006, "type": "error",
        "text": "The recovery code is invalid or has already been used. Please try again."}]
    assert flows.whoami().status_code == 401


def test_the_attempt_limit_stops_a_brute_force(flows, enabled, ada, mailbox):
    flow = flows.start("recovery")
    sent = shown(flows, flow, flows.submit(flow, method="code", email="ada@example.org"))
    code = mailbox.code("ada@example.org")

    for _ in range(5):
        wrong = shown(flows, flow, flows.submit(sent, method="code", code=other(code)))
        assert wrong["ui"]["messages"][0]["id"] == 4060006
    sixth = flows.submit(sent, method="code", code=code)

    replacement = restarted_flow(flows, sixth)
    assert replacement["id"] != flow["id"] and replacement["state"] == "choose_method"
    assert replacement["ui"]["messages"][0]["text"] == ("The request was submitted too often. "
                                                        "Please request another code.")
    assert flows.whoami().status_code == 401


def test_a_code_works_once(enabled, ada, mailbox, transitions):
    app = Flows("api")
    flow = app.start("recovery")
    app.submit(flow, method="code", email="ada@example.org")
    code = mailbox.code("ada@example.org")
    assert app.submit(flow, method="code", code=code).status_code == 200

    again = app.submit(flow, method="code", code=code)

    replacement = restarted_flow(app, again)
    assert replacement["ui"]["messages"][0]["text"] == "The code was already used. Please request another code."


def test_an_expired_code_reads_as_a_wrong_one(enabled, ada, mailbox, kratos_env):
    kratos_env(SELFSERVICE_METHODS_CODE_CONFIG_LIFESPAN="10m")
    app = Flows("api")
    flow = app.start("recovery")
    app.submit(flow, method="code", email="ada@example.org")
    code = mailbox.code("ada@example.org")
    clock.advance(timedelta(minutes=11))

    response = app.submit(flow, method="code", code=code)

    assert response.status_code == 200 and response.json()["ui"]["messages"][0]["id"] == 4060006


def test_codes_are_stored_as_keyed_hashes_only(enabled, ada, mailbox, network):
    from selfservice.models import OneTimeCode

    app = Flows("api")
    app.submit(app.start("recovery"), method="code", email="ada@example.org")
    code = mailbox.code("ada@example.org")

    stored = OneTimeCode.objects.get()
    assert len(stored.code_hmac) == 64 and code not in stored.code_hmac
    assert code not in str(list(OneTimeCode.objects.values()))


def test_a_code_survives_a_secret_rotation(enabled, ada, mailbox, kratos_env):
    app = Flows("api")
    flow = app.start("recovery")
    app.submit(flow, method="code", email="ada@example.org")
    code = mailbox.code("ada@example.org")
    kratos_env(SECRETS_COOKIE='["a-brand-new-cookie-secret-0123", "test-cookie-secret-0123456789abcdef"]')

    response = app.submit(flow, method="code", code=code)

    assert response.status_code == 422  # recovered (no transitions: the JSON client must navigate)


def test_signed_in_users_cannot_start_recovery(flows, enabled, ada):
    flows.sign_in("ada@example.org", PASSWORD)

    response = flows.init("recovery")

    if flows.kind == "browser":
        assert response.status_code == 303 and response["Location"] == "http://127.0.0.1:4455/"
    else:
        assert response.status_code == 400
        assert response.json()["error"] == {
            "id": "session_already_available", "code": 400, "status": "Bad Request",
            "reason": "A valid session was detected and thus recovery is not possible.",
            "message": "The request was malformed or contained invalid parameters"}


def test_an_identity_of_another_network_cannot_be_recovered(enabled, mailbox):
    with bind_network(Network.objects.create().id):
        create_identity(IdentityDraft(schema_id="default", traits={"email": "ada@example.org"}))
    app = Flows("api")

    sent = app.submit(app.start("recovery"), method="code", email="ada@example.org")

    assert sent.status_code == 200 and sent.json()["state"] == "sent_email"
    assert mailbox.deliver() == []


def test_an_expired_flow_is_replaced_on_submit(flows, enabled):
    flow = flows.start("recovery")
    clock.advance(timedelta(hours=1, seconds=1))

    replacement = restarted_flow(flows, flows.submit(flow, method="code", email="ada@example.org"))

    assert replacement["ui"]["messages"][0]["id"] == 4060005


def test_expired_flows_fetched_are_410(flows, enabled):
    flow = flows.start("recovery")
    clock.advance(timedelta(hours=1, seconds=1))

    response = flows.client.get("/self-service/recovery/flows", {"id": flow["id"]}, HTTP_ACCEPT="application/json")

    assert response.status_code == 410
    error = response.json()["error"]
    if flows.kind == "api":  # only api recovery flows keep the id
        assert error["id"] == "self_service_flow_expired" and error["details"]["api"].endswith("/recovery/api")
    else:
        assert "id" not in error and error["details"]["redirect_to"].endswith("/recovery/browser")


# --- link ---------------------------------------------------------------------------------------


@pytest.fixture
def link_enabled(kratos_env):
    kratos_env(SELFSERVICE_METHODS_LINK_ENABLED="true")


def test_a_link_recovers_the_account(flows, enabled, link_enabled, kratos_env, ada, mailbox):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_USE="link")
    flow = flows.start("recovery")

    sent = shown(flows, flow, flows.submit(flow, method="link", email="ada@example.org"))
    link = mailbox.link("ada@example.org")
    browser = Flows("browser")
    opened = browser.open(link)
    again = Flows("browser").open(link)

    assert flow["active"] == "link" and sent["ui"]["messages"][0]["id"] == 1060002
    assert node_value(sent, "email") == "ada@example.org"
    assert link.startswith(f"http://127.0.0.1:4433/self-service/recovery?flow={flow['id']}&token=")
    assert opened.status_code == 303 and opened["Location"].startswith(SETTINGS_UI)
    whoami = browser.whoami().json()
    assert [m["method"] for m in whoami["authentication_methods"]] == ["link_recovery"]
    assert again.status_code == 303 and again["Location"].startswith(RECOVERY_UI)
    assert again["Location"] != RECOVERY_UI + flow["id"]


# --- admin --------------------------------------------------------------------------------------


def test_admin_recovery_code_then_recovery(kind, enabled, ada, admin_api):
    created = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"], "expires_in": "15m"})

    assert created.status_code == 201, created.content
    body = created.json()
    assert sorted(body) == ["expires_at", "recovery_code", "recovery_link"]
    assert re.fullmatch(r"\d{6}", body["recovery_code"])
    ory_kratos_client.RecoveryCodeForIdentity.from_dict(body)
    assert body["recovery_link"].startswith(RECOVERY_UI)
    flow_id = body["recovery_link"].split("flow=")[1]
    visitor = Flows("spa")  # a browser the flow was never made for: no anti-CSRF check
    flow = visitor.fetch(flow_id, "recovery")
    assert [n["attributes"]["name"] for n in flow["ui"]["nodes"]] == ["code", "method"]
    assert flow["state"] == "sent_email"
    response = visitor.client.post(f"/self-service/recovery?flow={flow_id}", {"method": "code",
                                   "code": body["recovery_code"]}, content_type="application/json",
                                   HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and response.json()["redirect_browser_to"].startswith(SETTINGS_UI)
    assert visitor.whoami().json()["identity"]["id"] == ada["id"]


def test_admin_recovery_code_for_an_api_flow(enabled, ada, admin_api, transitions):
    body = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"], "flow_type": "api"}).json()
    app = Flows("api")
    flow = app.fetch(body["recovery_link"].split("flow=")[1], "recovery")

    response = app.submit(flow, method="code", code=body["recovery_code"])

    assert flow["type"] == "api"
    assert response.status_code == 200 and response.json()["continue_with"][0]["action"] == "set_ory_session_token"


def test_admin_recovery_code_errors(enabled, ada, admin_api, kratos_env):
    unknown = admin_api.call("POST", "/admin/recovery/code", {"identity_id": "00000000-0000-0000-0000-000000000001"})
    negative = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"], "expires_in": "-1h"})
    garbled = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"], "expires_in": "soon"})
    # Past Go's int64 nanoseconds: a parse error there, never an overflow here.
    endless = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"], "expires_in": "2562048h"})
    flow_type = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"], "flow_type": "tv"})
    kratos_env(SELFSERVICE_METHODS_CODE_ENABLED="false")
    disabled = admin_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"]})

    assert unknown.status_code == 404 and unknown.json() == {"error": {
        "code": 404, "status": "Not Found", "reason": "could not find identity",
        "message": "Unable to locate the resource"}}
    assert negative.json()["error"]["reason"] == 'Value from "expires_in" must result to a future time: -1h0m0s'
    assert garbled.json()["error"]["reason"] == ('Unable to parse "expires_in" whose format should match '
                                                 '"[0-9]+(ns|us|ms|s|m|h)" but did not: soon')
    assert endless.status_code == 400 and endless.json()["error"]["reason"].endswith("but did not: 2562048h")
    assert flow_type.json()["error"]["reason"] == 'Value from "flow_type" is not valid: "tv"'
    assert disabled.status_code == 404 and disabled.json()["error"]["reason"].startswith("This endpoint was disabled")


def test_admin_recovery_link(enabled, ada, admin_api, kratos_env):
    disabled = admin_api.call("POST", "/admin/recovery/link", {"identity_id": ada["id"]})
    kratos_env(SELFSERVICE_METHODS_LINK_ENABLED="true")
    unknown = admin_api.call("POST", "/admin/recovery/link", {"identity_id": "00000000-0000-0000-0000-000000000001"})
    created = admin_api.call("POST", "/admin/recovery/link", {"identity_id": ada["id"], "expires_in": "30m"})

    assert disabled.status_code == 404
    assert unknown.status_code == 400
    assert unknown.json()["error"]["reason"] == "The requested identity id does not exist."
    assert created.status_code == 200, created.content
    body = created.json()
    assert sorted(body) == ["expires_at", "recovery_link"]
    ory_kratos_client.RecoveryLinkForIdentity.from_dict(body)
    assert re.fullmatch(r"http://127\.0\.0\.1:4433/self-service/recovery\?flow=[0-9a-f-]{36}&token=[A-Za-z0-9]{32}",
                        body["recovery_link"])
    browser = Flows("browser")
    opened = browser.open(body["recovery_link"])
    assert opened.status_code == 303 and opened["Location"].startswith(SETTINGS_UI)
    assert browser.whoami().json()["identity"]["id"] == ada["id"]


def test_the_public_surface_has_no_admin_recovery(enabled, ada, public_api):
    response = public_api.call("POST", "/admin/recovery/code", {"identity_id": ada["id"]})

    assert response.status_code == 404


def test_the_html_form_flow_end_to_end(enabled, ada, mailbox):
    """The stock UI's way: form posts and redirects only, the code read from the email."""
    browser = Flows("browser")
    start = browser.client.get("/self-service/recovery/browser", HTTP_ACCEPT=HTML)
    flow = browser.fetch(start["Location"].split("flow=")[1], "recovery")

    browser.submit(flow, method="code", email="ada@example.org")
    sent = browser.fetch(flow["id"], "recovery")
    response = browser.submit(sent, method="code", code=mailbox.code("ada@example.org"))

    assert response.status_code == 303 and response["Location"].startswith(SETTINGS_UI)
    assert browser.whoami().status_code == 200
