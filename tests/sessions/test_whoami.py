"""`/sessions/whoami`: every credential carrier, every reason a session stops counting, the query budget."""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest

from identities.models import Identity
from identities.services import set_identity_state
from kratos_project import clock
from sessions_app.cookies import cookie_name
from sessions_app.models import Session
from sessions_app.services import revoke_session
from sessions_app.tokens import token_hash
from tests.sessions.helpers import cookie_value, no_session_body

pytestmark = pytest.mark.django_db
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _assert_no_session(response, reason: str = "No valid session credentials found in the request.") -> None:
    assert response.status_code == 401
    assert response.json() == no_session_body(reason)
    assert response["Ory-Error-Id"] == ""
    assert "X-Kratos-Authenticated-Identity-Id" not in response


def test_whoami_by_token_header_returns_the_session_as_kratos_writes_it(public_api, sign_in, identity_factory):
    created = identity_factory(traits={"email": "ada@example.org"}, password="correct horse battery staple",
                               metadata_public={"plan": "pro"}, metadata_admin={"crm": 42})
    identity = Identity.objects.get(id=created["id"])
    session, token = sign_in(identity, HTTP_USER_AGENT="Mozilla/5.0 (X11)", HTTP_CF_IPCITY="Berlin",
                             HTTP_CF_IPCOUNTRY="DE")

    response = public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200, response.content
    assert response["X-Kratos-Authenticated-Identity-Id"] == created["id"]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["id", "active", "expires_at", "authenticated_at", "authenticator_assurance_level",
                          "authentication_methods", "issued_at", "identity", "devices"]
    assert body["id"] == str(session.id) and body["active"] is True
    assert body["authenticator_assurance_level"] == "aal1"
    assert all(RFC3339.match(body[key]) for key in ("expires_at", "authenticated_at", "issued_at"))
    assert body["authenticated_at"] == body["issued_at"]
    [method] = body["authentication_methods"]
    assert (method["method"], method["aal"], method["completed_at"]) == ("password", "aal1", body["authenticated_at"])
    [device] = body["devices"]
    assert device == {"id": device["id"], "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11)",
                      "location": "Berlin, DE"}
    # The public identity: no credentials, no admin metadata, addresses included.
    assert body["identity"] == {key: value for key, value in created.items() if key not in ("credentials", "metadata_admin")}
    assert body["identity"]["verifiable_addresses"][0]["value"] == "ada@example.org"
    assert body["identity"]["recovery_addresses"][0]["value"] == "ada@example.org"


def test_session_lifespan_is_24h_by_default_and_configurable(public_api, sign_in, kratos_env):
    session, token = sign_in()
    assert session.expires_at - session.authenticated_at == timedelta(hours=24)

    kratos_env(SESSION_LIFESPAN="1h30m")
    short, _ = sign_in()

    assert short.expires_at - short.authenticated_at == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_whoami_by_bearer_token_with_any_case_of_the_scheme(public_api, sign_in, scheme):
    session, token = sign_in()

    response = public_api.call("GET", "/sessions/whoami", HTTP_AUTHORIZATION=f"{scheme} {token}")

    assert response.status_code == 200 and response.json()["id"] == str(session.id)


@pytest.mark.parametrize("header", ["Bearer", "Bearer  {token}", "Basic {token}", "Bearer {token} extra"])
def test_malformed_authorization_headers_are_not_credentials(public_api, sign_in, header):
    _, token = sign_in()

    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_AUTHORIZATION=header.format(token=token)))


def test_whoami_by_cookie(public_api, sign_in):
    session, token = sign_in()
    public_api.cookies[cookie_name()] = cookie_value(session, token)

    response = public_api.call("GET", "/sessions/whoami")

    assert response.status_code == 200 and response.json()["id"] == str(session.id)
    assert cookie_name() not in response.cookies  # not re-issued: the cookie records the current expiry


def test_lookup_order_is_header_then_cookie_then_bearer(public_api, sign_in):
    by_header, header_token = sign_in()
    by_cookie, cookie_token = sign_in()
    by_bearer, bearer_token = sign_in()
    public_api.cookies[cookie_name()] = cookie_value(by_cookie, cookie_token)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {bearer_token}"}

    all_three = public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=header_token, **bearer)
    cookie_and_bearer = public_api.call("GET", "/sessions/whoami", **bearer)
    public_api.cookies[cookie_name()] = "not-a-cookie-we-sealed"
    broken_cookie_and_bearer = public_api.call("GET", "/sessions/whoami", **bearer)

    assert all_three.json()["id"] == str(by_header.id)
    assert cookie_and_bearer.json()["id"] == str(by_cookie.id)
    assert broken_cookie_and_bearer.json()["id"] == str(by_bearer.id)  # an undecodable cookie falls through


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def test_whoami_answers_every_method(public_api, sign_in, method):
    session, token = sign_in()

    response = public_api.call(method, "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200
    assert response["X-Kratos-Authenticated-Identity-Id"] == str(session.identity_id)


def test_no_credentials_and_unknown_token_get_the_id_less_401(public_api, sign_in):
    sign_in()

    _assert_no_session(public_api.call("GET", "/sessions/whoami"))
    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN="ory_st_" + "a" * 32))


def test_expired_session_is_refused(public_api, sign_in):
    _, token = sign_in()
    clock.advance(timedelta(hours=23, minutes=59))
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 200

    clock.advance(timedelta(minutes=1))

    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token))


def test_revoked_session_is_refused(public_api, sign_in):
    session, token = sign_in()

    revoke_session(session)

    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token))


@pytest.mark.parametrize("deactivate", ["patch", "put", "service"])
def test_deactivating_an_identity_ends_its_sessions_for_good(public_api, admin_api, sign_in, deactivate):
    session, token = sign_in()
    identity = session.identity
    path = f"/admin/identities/{identity.id}"

    if deactivate == "patch":
        assert admin_api.call("PATCH", path, [{"op": "replace", "path": "/state", "value": "inactive"}]).status_code == 200
    elif deactivate == "put":
        body = {"schema_id": "default", "state": "inactive", "traits": identity.traits}
        assert admin_api.call("PUT", path, body).status_code == 200
    else:
        set_identity_state(identity, "inactive")

    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token))
    session.refresh_from_db()
    assert session.active is False
    # Stricter than Kratos: reactivation does not revive the session.
    assert admin_api.call("PATCH", path, [{"op": "replace", "path": "/state", "value": "active"}]).status_code == 200
    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token))


def test_a_failed_deactivation_keeps_the_sessions(public_api, admin_api, sign_in, identity_factory):
    identity_factory(traits={"email": "taken@example.org"})
    session, token = sign_in()

    response = admin_api.call("PUT", f"/admin/identities/{session.identity_id}",
                              {"schema_id": "default", "state": "inactive", "traits": {"email": "taken@example.org"}})

    assert response.status_code == 409
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 200


def test_deleting_an_identity_deletes_its_sessions(public_api, admin_api, sign_in):
    session, token = sign_in()

    assert admin_api.call("DELETE", f"/admin/identities/{session.identity_id}").status_code == 204

    _assert_no_session(public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token))
    assert not Session.all_networks.filter(id=session.id).exists()


def test_only_the_hash_of_the_token_is_stored(sign_in):
    session, token = sign_in()

    row = Session.all_networks.filter(id=session.id).values().get()

    assert re.fullmatch(r"ory_st_[A-Za-z0-9]{32}", token)
    assert row["token_hash"] == token_hash(token)
    assert token not in json.dumps(row, default=str)


def test_whoami_costs_at_most_two_queries(public_api, sign_in, django_assert_max_num_queries):
    session, token = sign_in()

    with django_assert_max_num_queries(2):
        response = public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)

    identity = response.json()["identity"]
    assert len(identity["verifiable_addresses"]) == 1 and len(identity["recovery_addresses"]) == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def test_whoami_answers_every_method_kratos_routes_to_it(public_api, sign_in, method):
    session, token = sign_in()

    response = public_api.call(method, "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)
    anonymous = public_api.call(method, "/sessions/whoami")

    assert response.status_code == 200
    assert response["X-Kratos-Authenticated-Identity-Id"] == str(session.identity_id)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    if method != "HEAD":  # the test client, like a server, sends no body for HEAD
        assert response.json()["id"] == str(session.id)
    uncacheable = "private, no-cache, no-store, must-revalidate"
    assert response.get("Cache-Control") == (uncacheable if method == "GET" else None)  # as Kratos: GETs only
    assert anonymous.status_code == 401 and "X-Kratos-Authenticated-Identity-Id" not in anonymous
    if method != "HEAD":
        _assert_no_session(anonymous)


def test_whoami_refuses_other_methods_in_kratos_envelope(public_api, sign_in):
    _, token = sign_in()

    response = public_api.generic("PROPFIND", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 405 and "X-Kratos-Authenticated-Identity-Id" not in response
    assert response.json() == {"error": {"code": 405, "status": "Method Not Allowed",
                                         "message": "The requested method is not allowed"}}


def test_whoami_reissues_a_cookie_whose_expiry_is_older_than_the_session(public_api, admin_api, sign_in):
    session, token = sign_in()
    public_api.cookies[cookie_name()] = cookie_value(session, token)
    clock.advance(timedelta(hours=2))
    extended = admin_api.call("PATCH", f"/admin/sessions/{session.id}/extend").json()

    response = public_api.call("GET", "/sessions/whoami")

    assert response.status_code == 200
    cookie = response.cookies[cookie_name()]
    assert 24 * 3600 - 5 <= cookie["max-age"] <= 24 * 3600
    sealed = cookie.value
    public_api.cookies[cookie_name()] = sealed
    again = public_api.call("GET", "/sessions/whoami")
    assert again.json()["expires_at"] == extended["expires_at"] and cookie_name() not in again.cookies


def test_cookie_of_another_session_is_not_reissued_for_a_header_session(public_api, admin_api, sign_in):
    mine, my_token = sign_in()
    other, other_token = sign_in()
    public_api.cookies[cookie_name()] = cookie_value(other, other_token)
    admin_api.call("PATCH", f"/admin/sessions/{other.id}/extend")
    clock.advance(timedelta(minutes=1))

    response = public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=my_token)

    assert response.json()["id"] == str(mine.id)
    assert cookie_name() not in response.cookies


def test_session_token_cookie_value_reveals_nothing(sign_in):
    session, token = sign_in()

    value = cookie_value(session, token)

    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert token.encode() not in decoded and b"session_token" not in decoded
