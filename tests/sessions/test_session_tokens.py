"""Token formats and the per-request device record."""
from __future__ import annotations

import hashlib
import re

import pytest
from django.test import RequestFactory

from sessions_app.services import assurance_level, client_ip, device_from_request
from sessions_app.tokens import logout_token_for, new_session_token, token_hash


def test_session_tokens_have_kratos_form_and_do_not_repeat():
    tokens = {new_session_token() for _ in range(200)}

    assert len(tokens) == 200
    assert all(re.fullmatch(r"ory_st_[A-Za-z0-9]{32}", t) for t in tokens)


def test_logout_token_is_derived_one_way_from_the_session_token():
    token = new_session_token()

    logout = logout_token_for(token)

    assert re.fullmatch(r"ory_lo_[A-Za-z0-9]{32}", logout)
    assert logout == logout_token_for(token) and logout != logout_token_for(new_session_token())
    assert token[7:] not in logout


def test_token_hash_is_sha256_hex():
    token = new_session_token()

    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(("meta", "expected"), [
    ({"REMOTE_ADDR": "198.51.100.1"}, "198.51.100.1"),
    ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.2, 10.0.0.7"}, "198.51.100.2"),
    ({"HTTP_X_FORWARDED_FOR": "10.1.1.1, 192.168.0.2"}, ""),
    ({"HTTP_X_REAL_IP": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "198.51.100.2"}, "203.0.113.5"),
    ({"HTTP_TRUE_CLIENT_IP": "203.0.113.6", "HTTP_CF_CONNECTING_IP": "203.0.113.7"}, "203.0.113.6"),
])
def test_client_ip_follows_ory_x(meta, expected):
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_device_without_user_agent_or_location_and_long_values_truncated():
    bare = device_from_request(RequestFactory().get("/", REMOTE_ADDR="198.51.100.1"))
    long = device_from_request(RequestFactory().get("/", HTTP_USER_AGENT="x" * 600, HTTP_CF_IPCOUNTRY="DE"))

    assert (bare["user_agent"], bare["location"]) == (None, "")
    assert len(long["user_agent"]) == 512 and long["location"] == "DE"


@pytest.mark.parametrize(("methods", "expected"), [
    ([], "aal0"),
    ([{"method": "password", "aal": "aal1"}], "aal1"),
    ([{"method": "totp", "aal": "aal2"}], "aal1"),
    ([{"method": "password", "aal": "aal1"}, {"method": "totp", "aal": "aal2"}], "aal2"),
    ([{"method": "password"}, {"method": "webauthn"}], "aal2"),  # entries without aal: Kratos's defaults
])
def test_assurance_level_as_kratos(methods, expected):
    assert assurance_level(methods) == expected
