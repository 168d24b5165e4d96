"""The browser session cookie (`ory_kratos_session`), as Kratos issues it (`session/manager_http.go`).

Its value is opaque: the session token, the session's expiry and a nonce, as JSON sealed with
AES-256-GCM (authenticated encryption) under the SHA-256 of a `secrets.cookie` entry. Kratos uses
gorilla's securecookie (HMAC plus AES-CTR) to the same end; only the cookie's name and attributes
are observable, so the sealing is ours. Rotation as in Kratos: the first secret seals, every
configured secret is tried when opening, so prepending a new secret keeps existing cookies valid.
The cookie name is bound as associated data: a value cannot be replayed under another cookie.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.http import HttpRequest, HttpResponse

from kratos_project import clock
from kratos_project.config import get_config
from kratos_project.jsontime import rfc3339

DEFAULT_NAME = "ory_kratos_session"
_NONCE_BYTES = 12  # AES-GCM's standard nonce size
_EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"
# Go's strconv.ParseBool, which Kratos applies to `session.cookie.secure` (a string in its schema).
_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})


@dataclass(frozen=True)
class CookiePayload:
    session_token: str
    expires_at: datetime | None


def cookie_name() -> str:
    return get_config().get("session.cookie.name") or DEFAULT_NAME


def set_session_cookie(response: HttpResponse, session: Any, token: str) -> None:
    """Issue (or re-issue) the cookie for `session`, whose clear token is `token`.

    A new nonce each time makes every issued value different (Kratos: "guarantee new kratos
    session identifier"), so a value captured before a sign-in never equals the one after it.
    """
    payload = {
        "session_token": token,
        "expires_at": rfc3339(session.expires_at),
        "nonce": "".join(secrets.choice(string.ascii_letters) for _ in range(8)),
    }
    max_age = None
    if _persistent():
        # Whole seconds until the session ends, as Go's int(time.Until(expires_at).Seconds()).
        max_age = max(int((session.expires_at - clock.now()).total_seconds()), 0)
    response.set_cookie(cookie_name(), _seal(json.dumps(payload).encode()), max_age=max_age, **_attributes())


def clear_session_cookie(response: HttpResponse) -> None:
    """Re-send the cookie emptied and already expired, with the attributes it was set with."""
    response.set_cookie(cookie_name(), "", max_age=0, expires=_EXPIRED, **_attributes())


def read_session_cookie(request: HttpRequest) -> CookiePayload | None:
    """The cookie's content, or None when it is absent, tampered with or sealed by an unknown secret."""
    value = request.COOKIES.get(cookie_name())
    if not value:
        return None
    opened = _open(value)
    if opened is None:
        return None
    try:
        document = json.loads(opened)
        token = document["session_token"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(token, str) or not token:
        return None
    return CookiePayload(session_token=token, expires_at=_parse_time(document.get("expires_at")))


def token_from_cookie(request: HttpRequest) -> str | None:
    payload = read_session_cookie(request)
    return payload.session_token if payload else None


def _seal(plaintext: bytes) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_key(get_config().secrets_cookie[0])).encrypt(nonce, plaintext, cookie_name().encode())
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def _open(value: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    if len(nonce) < _NONCE_BYTES:
        return None
    for secret in get_config().secrets_cookie:
        try:
            return AESGCM(_key(secret)).decrypt(nonce, sealed, cookie_name().encode())
        except InvalidTag:
            continue
    return None


def _key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _persistent() -> bool:
    return bool(get_config().get("session.cookie.persistent", True))


def _attributes() -> dict[str, Any]:
    """Path, Domain, SameSite and Secure: `session.cookie.*` first, then `cookies.*` (reference §5.2)."""
    config = get_config()
    path = config.get("session.cookie.path")
    domain = config.get("session.cookie.domain")
    same_site = config.get("session.cookie.same_site")
    secure = config.get("session.cookie.secure")
    return {
        "path": (config.get("cookies.path") or "/") if path is None else (path or "/"),
        "domain": (config.get("cookies.domain") if domain is None else domain) or None,
        "samesite": same_site or config.get("cookies.same_site") or "Lax",
        # `cookies.secure` is not consulted for the session cookie: unset means "unless --dev".
        "secure": (not config.dev) if secure is None else str(secure) in _TRUE,
        "httponly": True,
    }
