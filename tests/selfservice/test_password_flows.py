"""Registration, login, whoami and logout with the password method, for browser, SPA and api clients."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.selfservice.conftest import Flows, node_value

PASSWORD = "correct horse battery staple"


@pytest.fixture
def unified(kratos_env):
    kratos_env(SELFSERVICE_FLOWS_REGISTRATION_STYLE="unified",
               SELFSERVICE_FLOWS_REGISTRATION_AFTER_PASSWORD_HOOKS='[{"hook": "session"}]')


def _signed_in(flows: Flows, response) -> dict:
    """Check the success response for the client kind and remember the api token."""
    if flows.kind == "browser":
        assert response.status_code == 303, response.content
        assert "ory_kratos_session" in response.cookies
        return {}
    assert response.status_code == 200, response.content
    body = response.json()
    if flows.kind == "api":
        assert body["session_token"].startswith("ory_st_")
        flows.session_token = body["session_token"]
    else:
        assert "session_token" not in body
        assert body["continue_with"] == [{"action": "redirect_browser_to",
                                          "redirect_browser_to": "http://127.0.0.1:4455/"}]
    return body


def test_register_then_whoami(flows, unified):
    flow = flows.start("registration")

    response = flows.submit(flow, method="password", password=PASSWORD, traits={"email": "ada@example.org"})

    body = _signed_in(flows, response)
    if flows.kind != "browser":
        assert body["identity"]["traits"] == {"email": "ada@example.org"}
        assert body["session"]["identity"]["id"] == body["identity"]["id"]
    whoami = flows.whoami()
    assert whoami.status_code == 200, whoami.content
    assert whoami.json()["identity"]["traits"]["email"] == "ada@example.org"
    assert whoami.json()["authentication_methods"][0]["method"] == "password"


def test_login_then_logout(flows, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    flow = flows.start("login")

    response = flows.submit(flow, method="password", identifier="ADA@example.org", password=PASSWORD)

    _signed_in(flows, response)
    assert flows.whoami().status_code == 200
    if flows.kind == "api":
        out = flows.client.delete("/self-service/logout/api", {"session_token": flows.session_token},
                                  content_type="application/json")
        assert out.status_code == 204
    else:
        logout = flows.client.get("/self-service/logout/browser", HTTP_ACCEPT="application/json").json()
        out = flows.client.get(urlsplit(logout["logout_url"]).path, {"token": logout["logout_token"]},
                               HTTP_ACCEPT=flows.accept)
        assert out.status_code == (303 if flows.kind == "browser" else 204)
    assert flows.whoami().status_code == 401


def test_wrong_password_and_unknown_identifier_read_the_same(flows, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    flow = flows.start("login")

    wrong = flows.submit(flow, method="password", identifier="ada@example.org", password="wrong password!")
    wrong_flow = flows.fetch(flow["id"], "login") if flows.kind == "browser" else wrong.json()
    unknown = flows.submit(wrong_flow, method="password", identifier="nobody@example.org", password="wrong password!")
    unknown_flow = flows.fetch(flow["id"], "login") if flows.kind == "browser" else unknown.json()

    assert wrong.status_code == unknown.status_code == (303 if flows.kind == "browser" else 400)
    assert wrong_flow["ui"]["messages"] == unknown_flow["ui"]["messages"] == [{
        "id": 4000006, "type": "error",
        "text": "The provided credentials are invalid, check for spelling mistakes in your password or username, "
                "email address, or phone number."}]
    assert node_value(unknown_flow, "identifier") == "nobody@example.org"


def test_two_step_registration_without_session_hook(flows):
    flow = flows.start("registration")
    assert [n["attributes"]["name"] for n in flow["ui"]["nodes"]][-1] == "method"

    step = flows.submit(flow, method="profile", screen="credential-selection", traits={"email": "ada@example.org"})
    credentials = flows.fetch(flow["id"], "registration") if flows.kind == "browser" else step.json()
    done = flows.submit(credentials, method="password", password=PASSWORD,
                        traits={"email": node_value(credentials, "traits.email")})

    assert step.status_code == (303 if flows.kind == "browser" else 400)
    assert credentials["ui"]["messages"] == [{"id": 1040009, "type": "info",
                                              "text": "Please choose a credential to authenticate yourself with."}]
    assert node_value(credentials, "traits.email") == "ada@example.org"
    assert node_value(credentials, "screen") == "previous"
    if flows.kind == "browser":
        assert done.status_code == 303 and "ory_kratos_session" not in done.cookies
    else:
        assert done.status_code == 200 and "session" not in done.json()
        assert done.json()["identity"]["traits"]["email"] == "ada@example.org"
    assert flows.whoami().status_code == 401  # no `session` hook configured: registration does not sign in


def test_profile_step_rejects_invalid_traits_on_their_node(flows):
    flow = flows.start("registration")

    response = flows.submit(flow, method="profile", screen="credential-selection", traits={"email": "not-an-email"})
    shown = flows.fetch(flow["id"], "registration") if flows.kind == "browser" else response.json()

    email = next(n for n in shown["ui"]["nodes"] if n["attributes"]["name"] == "traits.email")
    assert email["messages"] == [{"id": 4000040, "text": "Enter a valid email address", "type": "error",
                                  "context": {"value": "not-an-email"}}]
    assert email["attributes"]["value"] == "not-an-email" and email["attributes"]["type"] == "email"


def test_an_identifier_longer_than_its_column_is_a_field_message(flows):
    flow = flows.start("registration")
    long_email = "a" * 290 + "@example.org"  # the schema allows 320; the identifier column holds 255

    response = flows.submit(flow, method="profile", screen="credential-selection", traits={"email": long_email})
    shown = flows.shown(flow, response, "registration")

    email = next(n for n in shown["ui"]["nodes"] if n["attributes"]["name"] == "traits.email")
    assert email["messages"] == [{"id": 4000017, "text": "length must be <= 255, but got 302", "type": "error",
                                  "context": {"max_length": 255, "actual_length": 302}}]


def test_password_policy_and_duplicates_are_flow_messages(flows, unified, identity_factory):
    identity_factory(traits={"email": "taken@example.org"}, password=PASSWORD)
    flow = flows.start("registration")

    short = flows.submit(flow, method="password", password="short", traits={"email": "ada@example.org"})
    shown = flows.fetch(flow["id"], "registration") if flows.kind == "browser" else short.json()
    password = next(n for n in shown["ui"]["nodes"] if n["attributes"]["name"] == "password")
    taken = flows.submit(shown, method="password", password=PASSWORD, traits={"email": "Taken@example.org"})
    shown = flows.fetch(flow["id"], "registration") if flows.kind == "browser" else taken.json()

    assert password["messages"][0]["id"] == 4000032 and "value" not in password["attributes"]
    assert shown["ui"]["messages"][0]["id"] == 4000007


def test_expired_flow_is_replaced(flows, identity_factory):
    from datetime import timedelta

    from kratos_project import clock

    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    flow = flows.start("login")
    clock.advance(timedelta(hours=1, seconds=1))

    response = flows.submit(flow, method="password", identifier="ada@example.org", password=PASSWORD)

    if flows.kind == "browser":
        assert response.status_code == 303
        assert "flow=" in response["Location"] and flow["id"] not in response["Location"]
        return
    assert response.status_code == 410
    body = response.json()
    assert body["error"]["id"] == "self_service_flow_expired" and body["use_flow_id"] != flow["id"]
    replacement = flows.client.get("/self-service/login/flows", {"id": body["use_flow_id"]}).json() \
        if flows.kind == "spa" else None
    if replacement:
        assert replacement["ui"]["messages"][0]["id"] == 4010001


def test_signed_in_user_cannot_start_another_login_without_refresh(flows, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    _signed_in(flows, flows.submit(flows.start("login"), method="password", identifier="ada@example.org",
                                   password=PASSWORD))

    again = flows.client.get("/self-service/login/" + ("api" if flows.kind == "api" else "browser"),
                             HTTP_ACCEPT=flows.accept, **flows._auth())
    refresh = flows.start("login", refresh="true")

    if flows.kind == "browser":
        assert again.status_code == 303 and again["Location"] == "http://127.0.0.1:4455/"
    else:
        assert again.status_code == 400 and again.json()["error"]["id"] == "session_already_available"
    assert refresh["refresh"] is True
    assert refresh["ui"]["messages"][0]["id"] == 1010003
    assert node_value(refresh, "identifier") == "ada@example.org"


def test_inactive_identity_cannot_sign_in(flows, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD, state="inactive")

    response = flows.submit(flows.start("login"), method="password", identifier="ada@example.org", password=PASSWORD)

    if flows.kind == "browser":
        assert response.status_code == 303 and "/error" in response["Location"]
    else:
        assert response.status_code == 401
        assert response.json()["error"]["reason"] == "This account was disabled."


def test_transient_payload_is_echoed_on_the_flow(flows, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    flow = flows.start("login")

    response = flows.submit(flow, method="password", identifier="ada@example.org", password="wrong password!",
                            transient_payload={"campaign": "spring"})

    shown = flows.fetch(flow["id"], "login") if flows.kind == "browser" else response.json()
    assert shown["transient_payload"] == {"campaign": "spring"}
