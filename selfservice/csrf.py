"""Kratos's anti-CSRF scheme for browser flows (ory/nosurf): a token cookie plus a masked body copy.

The cookie `csrf_token_<sha256(public base URL)>` holds 32 random bytes (base64). A flow remembers
the token it was created with and renders it *masked* (a fresh one-time pad XOR the token, so the
page never carries the same bytes twice, defeating BREACH-style compression oracles). A submission
must carry a `csrf_token` that unmasks to the cookie's token, and the cookie must be the flow's.
All comparisons are constant-time.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from kratos_project.config import get_config
from selfservice.errors import CSRFViolation

TOKEN_BYTES = 32
COOKIE_MAX_AGE = 31_536_000  # one year, as nosurf


def cookie_name() -> str:
    return "csrf_token_" + hashlib.sha256(get_config().public.base_url.encode()).hexdigest()


def new_token() -> str:
    return base64.b64encode(secrets.token_bytes(TOKEN_BYTES)).decode()


def _decode(token: str) -> bytes | None:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == TOKEN_BYTES else None


def mask(token: str) -> str:
    raw = _decode(token)
    if raw is None:
        raise ValueError("not an anti-CSRF token")
    pad = secrets.token_bytes(TOKEN_BYTES)
    return base64.b64encode(pad + bytes(a ^ b for a, b in zip(pad, raw, strict=True))).decode()


def unmask(sent: str) -> bytes | None:
    """The raw token of a masked (88 chars) or plain (44 chars) submission, or None."""
    try:
        raw = base64.b64decode(sent, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) == 2 * TOKEN_BYTES:
        pad, masked = raw[:TOKEN_BYTES], raw[TOKEN_BYTES:]
        return bytes(a ^ b for a, b in zip(pad, masked, strict=True))
    return raw if len(raw) == TOKEN_BYTES else None


def token_from_cookie(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(cookie_name(), "")
    return value if _decode(value) is not None else None


def request_token(request: HttpRequest) -> str:
    """The browser's current token, or a new one (set by `set_cookie` on the response)."""
    existing = token_from_cookie(request)
    if existing:
        return existing
    token = getattr(request, "_kratos_new_csrf_token", None) or new_token()
    request._kratos_new_csrf_token = token  # type: ignore[attr-defined]
    return token


def regenerate(request: HttpRequest) -> str:
    """A new token for a new principal (after login, logout): the old one must stop working.

    Once per request: a second call (a registration's verification hook, then its session) returns
    the same new token, so a flow made in between belongs to the cookie the browser ends up with.
    """
    token = getattr(request, "_kratos_regenerated_csrf_token", None) or new_token()
    request._kratos_regenerated_csrf_token = request._kratos_new_csrf_token = token  # type: ignore[attr-defined]
    request.COOKIES.pop(cookie_name(), None)
    return token


def set_cookie(request: HttpRequest, response: HttpResponse) -> None:
    token = getattr(request, "_kratos_new_csrf_token", None)
    if not token:
        return
    config = get_config()
    secure = bool(config.get("cookies.secure", not config.dev))
    same_site = config.get("cookies.same_site") or "Lax"
    response.set_cookie(
        cookie_name(), token, max_age=COOKIE_MAX_AGE, path=config.get("cookies.path") or "/",
        domain=config.get("cookies.domain") or None, secure=secure, httponly=True,
        samesite=same_site if secure else "Lax",  # nosurf forces Lax on insecure cookies
    )


def verify_flow_cookie(request: HttpRequest, flow_token: str) -> None:
    """`GET …/flows?id=`: the browser asking must hold the cookie the flow was made for."""
    cookie = token_from_cookie(request)
    if cookie is None:
        raise CSRFViolation("The anti-CSRF cookie was not found in the request.")
    if not hmac.compare_digest(cookie.encode(), flow_token.encode()):
        raise CSRFViolation("The anti-CSRF cookie does not match the flow.")


def verify_submission(request: HttpRequest, flow_token: str, sent: str | None) -> None:
    """A browser-flow submission: the body token must unmask to the cookie's, which must be the flow's."""
    cookie = token_from_cookie(request)
    if cookie is None:
        raise CSRFViolation("The anti-CSRF cookie was not found in the request.")
    if not sent:
        raise CSRFViolation("The anti-CSRF token was not sent in the request body.")
    expected = _decode(cookie) or b""
    unmasked = unmask(sent) or b""
    token_ok = hmac.compare_digest(unmasked, expected)
    flow_ok = hmac.compare_digest(cookie.encode(), flow_token.encode())
    if not (token_ok and flow_ok):
        raise CSRFViolation("The HTTP Cookie Header was set and a CSRF token was sent but they do not match.")


class CookieMiddleware:
    """Sets the anti-CSRF cookie when a flow made (or regenerated) a token during the request.

    Also marks public responses `Vary: Cookie`, as Kratos's anti-CSRF middleware does.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        set_cookie(request, response)
        if request.META.get("kratos.surface", "public") == "public":
            patch_vary_headers(response, ("Cookie",))
        return response
