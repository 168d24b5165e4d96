"""The settings flow: profile and password changes by the signed-in identity, for all client kinds."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kratos_project import clock
from tests.selfservice.conftest import HTML, Flows, node_value

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different horse entirely"


@pytest.fixture
def ada(identity_factory):
    return identity_factory(traits={"email": "ada@example.org", "name": {"first": "Ada"}}, password=PASSWORD)


def test_settings_need_a_session(flows):
    variant = "api" if flows.kind == "api" else "browser"

    response = flows.client.get(f"/self-service/settings/{variant}", HTTP_ACCEPT=flows.accept)

    if flows.kind == "browser":
        assert response.status_code == 303
        assert response["Location"].startswith("http://127.0.0.1:4433/self-service/login/browser?return_to=")
    else:
        assert response.status_code == 401 and response.json()["error"]["id"] == "session_inactive"


def test_profile_change_is_saved(flows, ada):
    flows.sign_in("ada@example.org", PASSWORD)
    flow = flows.start("settings")
    assert flow["identity"]["id"] == ada["id"] and flow["state"] == "show_form"
    assert node_value(flow, "traits.email") == "ada@example.org"

    response = flows.submit(flow, method="profile", traits={"email": "ada@example.org", "name": {"first": "Augusta"}})

    if flows.kind == "browser":
        assert response.status_code == 303 and response["Location"].endswith(f"?flow={flow['id']}")
    else:
        assert response.status_code == 200, response.content
    saved = flows.shown(flow, response, "settings")
    assert saved["state"] == "success" and saved["active"] == "profile"
    assert saved["ui"]["messages"] == [{"id": 1050001, "text": "Your changes have been saved!", "type": "success"}]
    assert saved["identity"]["traits"]["name"] == {"first": "Augusta"}
    assert node_value(saved, "traits.name.first") == "Augusta"


def test_password_change_replaces_the_old_password(flows, ada):
    flows.sign_in("ada@example.org", PASSWORD)
    flow = flows.start("settings")

    weak = flows.submit(flow, method="password", password="short")
    password_node = next(n for n in flows.shown(flow, weak, "settings")["ui"]["nodes"]
                         if n["attributes"]["name"] == "password")
    response = flows.submit(flow, method="password", password=NEW_PASSWORD)

    assert password_node["messages"][0]["id"] == 4000032
    assert response.status_code == (303 if flows.kind == "browser" else 200), response.content
    app = Flows("api")
    old = app.submit(app.start("login"), method="password", identifier="ada@example.org", password=PASSWORD)
    new = app.submit(app.start("login"), method="password", identifier="ada@example.org", password=NEW_PASSWORD)
    assert (old.status_code, new.status_code) == (400, 200)


def test_old_sessions_must_sign_in_again_to_change_credentials(flows, ada, kratos_env):
    kratos_env(SELFSERVICE_FLOWS_SETTINGS_PRIVILEGED_SESSION_MAX_AGE="15m")
    flows.sign_in("ada@example.org", PASSWORD)
    flow = flows.start("settings")
    clock.advance(timedelta(minutes=16))

    password = flows.submit(flow, method="password", password=NEW_PASSWORD)
    email = flows.submit(flow, method="profile", traits={"email": "augusta@example.org", "name": {"first": "Ada"}})
    name_only = flows.submit(flow, method="profile", traits={"email": "ada@example.org", "name": {"first": "Augusta"}})

    for response in (password, email):
        if flows.kind == "browser":
            assert response.status_code == 303 and "refresh=true" in response["Location"]
        else:
            assert response.status_code == 403
            body = response.json()
            assert body["error"]["id"] == "session_refresh_required"
            assert body["redirect_browser_to"].startswith("http://127.0.0.1:4433/self-service/login/browser?refresh=true")
    assert name_only.status_code == (303 if flows.kind == "browser" else 200)


def test_a_flow_of_another_identity_is_refused(kind, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)
    identity_factory(traits={"email": "mallory@example.org"}, password=PASSWORD)
    ada, mallory = Flows(kind), Flows(kind)
    ada.sign_in("ada@example.org", PASSWORD)
    mallory.sign_in("mallory@example.org", PASSWORD)
    flow = ada.start("settings")
    if kind != "api":  # the attacker also holds the victim's anti-CSRF cookie (worst case)
        mallory.client.cookies.update({k: v for k, v in ada.client.cookies.items() if k.startswith("csrf_token_")})

    response = mallory.submit(flow, method="profile", traits={"email": "mallory@example.org"})

    if kind == "browser":
        assert response.status_code == 303 and "/error" in response["Location"]
    else:
        assert response.status_code == 403 and response.json()["error"]["id"] == "security_identity_mismatch"


def test_fetching_without_a_session_is_an_idless_401(ada):
    spa = Flows("spa")
    spa.sign_in("ada@example.org", PASSWORD)
    flow = spa.start("settings")
    spa.client.cookies.pop("ory_kratos_session")

    response = spa.client.get("/self-service/settings/flows", {"id": flow["id"]}, HTTP_ACCEPT="application/json")
    html = spa.client.get("/self-service/settings/flows", {"id": flow["id"]}, HTTP_ACCEPT=HTML)

    assert response.status_code == 401 and "id" not in response.json()["error"]
    assert html.status_code == 302
