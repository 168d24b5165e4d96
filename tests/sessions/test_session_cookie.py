"""The `ory_kratos_session` cookie: attributes from config, sealing, secret rotation, tampering."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.http import HttpResponse

from kratos_project import clock
from sessions_app.cookies import clear_session_cookie, cookie_name, set_session_cookie
from tests.sessions.helpers import cookie_value, no_session_body

pytestmark = pytest.mark.django_db


def _issued(session, token):
    response = HttpResponse()
    set_session_cookie(response, session, token)
    return response.cookies[cookie_name()]


def test_default_attributes_under_dev(sign_in):
    session, token = sign_in()

    cookie = _issued(session, token)

    assert cookie.key == "ory_kratos_session"
    assert cookie["path"] == "/" and cookie["domain"] == "" and cookie["samesite"] == "Lax"
    assert cookie["httponly"] is True
    assert cookie["secure"] == ""  # the test configuration runs with dev: true
    assert 24 * 3600 - 5 <= cookie["max-age"] <= 24 * 3600 and cookie["expires"]


def test_max_age_counts_down_to_the_session_expiry(sign_in):
    session, token = sign_in()
    clock.advance(timedelta(hours=20))

    assert 4 * 3600 - 5 <= _issued(session, token)["max-age"] <= 4 * 3600


def test_session_keys_override_the_cookies_keys(sign_in, kratos_env):
    kratos_env(SESSION_COOKIE_NAME="my_session", SESSION_COOKIE_PATH="/app", SESSION_COOKIE_DOMAIN="example.org",
               SESSION_COOKIE_SAME_SITE="Strict", SESSION_COOKIE_SECURE="true", SESSION_COOKIE_PERSISTENT="false",
               COOKIES_PATH="/ignored", COOKIES_DOMAIN="ignored.example.org", COOKIES_SAME_SITE="None")
    session, token = sign_in()

    cookie = _issued(session, token)

    assert cookie.key == "my_session"
    assert (cookie["path"], cookie["domain"], cookie["samesite"], cookie["secure"]) == ("/app", "example.org", "Strict", True)
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # not persistent: a browser-session cookie


def test_cookies_keys_apply_when_session_keys_are_unset(sign_in, kratos_env):
    kratos_env(COOKIES_PATH="/base", COOKIES_DOMAIN="example.org", COOKIES_SAME_SITE="Strict", COOKIES_SECURE="true")
    session, token = sign_in()

    cookie = _issued(session, token)

    # `cookies.secure` does not apply to the session cookie: only `session.cookie.secure` or --dev do.
    assert (cookie["path"], cookie["domain"], cookie["samesite"], cookie["secure"]) == ("/base", "example.org", "Strict", "")


def test_secure_unless_dev(sign_in, kratos_env):
    kratos_env(DEV="false")
    session, token = sign_in()

    assert _issued(session, token)["secure"] is True


def test_every_issue_has_a_new_value(sign_in):
    session, token = sign_in()

    assert cookie_value(session, token) != cookie_value(session, token)


def test_clearing_expires_the_cookie_with_the_same_attributes(kratos_env):
    kratos_env(SESSION_COOKIE_DOMAIN="example.org", SESSION_COOKIE_PATH="/app")
    response = HttpResponse()

    clear_session_cookie(response)

    cookie = response.cookies["ory_kratos_session"]
    assert cookie.value == "" and cookie["max-age"] == 0
    assert cookie["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert (cookie["path"], cookie["domain"], cookie["httponly"]) == ("/app", "example.org", True)


def test_a_cookie_sealed_with_an_old_secret_still_opens_after_rotation(public_api, sign_in, kratos_env):
    kratos_env(SECRETS_COOKIE=json.dumps(["old-secret-0123456789abcdef"]))
    session, token = sign_in()
    public_api.cookies[cookie_name()] = cookie_value(session, token)

    kratos_env(SECRETS_COOKIE=json.dumps(["new-secret-0123456789abcdef", "old-secret-0123456789abcdef"]))
    response = public_api.call("GET", "/sessions/whoami")
    fresh = cookie_value(session, token)

    assert response.status_code == 200 and response.json()["id"] == str(session.id)
    # New cookies are sealed with the first secret only: they no longer open once it is the only one gone.
    kratos_env(SECRETS_COOKIE=json.dumps(["old-secret-0123456789abcdef"]))
    public_api.cookies[cookie_name()] = fresh
    assert public_api.call("GET", "/sessions/whoami").status_code == 401


def test_a_cookie_sealed_with_an_unknown_secret_is_rejected(public_api, sign_in, kratos_env):
    kratos_env(SECRETS_COOKIE=json.dumps(["someone-elses-secret-0123456789"]))
    session, token = sign_in()
    forged = cookie_value(session, token)

    kratos_env(SECRETS_COOKIE=json.dumps(["our-secret-0123456789abcdef"]))
    public_api.cookies[cookie_name()] = forged
    response = public_api.call("GET", "/sessions/whoami")

    assert response.status_code == 401 and response.json() == no_session_body()


@pytest.mark.parametrize("position", [0, 12, 40, -1])  # nonce, ciphertext start, middle, tag
def test_a_tampered_cookie_is_rejected(public_api, sign_in, position):
    session, token = sign_in()
    value = cookie_value(session, token)
    raw = bytearray(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    raw[position] ^= 0x01
    public_api.cookies[cookie_name()] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    assert public_api.call("GET", "/sessions/whoami").status_code == 401


def test_a_cookie_value_does_not_open_under_another_cookie_name(public_api, sign_in, kratos_env):
    session, token = sign_in()
    value = cookie_value(session, token)

    kratos_env(SESSION_COOKIE_NAME="renamed_session")
    public_api.cookies["renamed_session"] = value

    assert public_api.call("GET", "/sessions/whoami").status_code == 401
