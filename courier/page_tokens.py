"""Sealed, expiring keyset page tokens (ory/x `keysetpagination_v2` with hyrumtoken), as the courier uses.

The token holds the keyset position (`created_at` descending, then `id`) as JSON, encrypted and
authenticated so clients cannot read or craft it, and it expires an hour after it was issued. The
key is SHA-512/256 of the first `secrets.pagination` entry; every entry is tried when opening, and
an all-zero key stands in when none is configured, as in Kratos.

Kratos seals with NaCl secretbox; we use ChaCha20-Poly1305 (a random 96-bit nonce per token).
Tokens are opaque either way, so only tokens issued by this server are accepted.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from kratos_project import clock
from kratos_project.config import get_config
from kratos_project.errors import BadRequest

LIFETIME = timedelta(hours=1)
_NONCE_BYTES = 12
_FALLBACK_KEY = bytes(32)
_NIL = UUID(int=0)
# Kratos's first-page position: later than any message, then the nil id.
_FIRST_CREATED_AT = datetime.fromisoformat("2200-12-31T23:59:59+00:00")


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: UUID


FIRST = Position(_FIRST_CREATED_AT, _NIL)


def seal(position: Position) -> str:
    document = {
        "e": (clock.now() + LIFETIME).isoformat(),
        "c": [{"n": "created_at", "o": 1, "vt": position.created_at.isoformat()},
              {"n": "id", "vu": str(position.id)}],
    }
    nonce = os.urandom(_NONCE_BYTES)
    sealed = ChaCha20Poly1305(_keys()[0]).encrypt(nonce, json.dumps(document).encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_token(token: str) -> Position:
    """The position in a token this server sealed; 400 when it is not one or has expired."""
    document = json.loads(_decrypt(token))
    if datetime.fromisoformat(document["e"]) < clock.now():
        raise BadRequest("page token expired, do not persist page tokens")
    created_at, identifier = document["c"]
    return Position(datetime.fromisoformat(created_at["vt"]), UUID(identifier["vu"]))


def _decrypt(token: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    for key in (*_keys(), _FALLBACK_KEY):
        try:
            return ChaCha20Poly1305(key).decrypt(nonce, sealed, None)
        except (InvalidTag, ValueError):
            continue
    raise BadRequest("invalid pagination token")


def _keys() -> list[bytes]:
    secrets = get_config().secrets_pagination
    return [hashlib.new("sha512_256", s.encode()).digest() for s in secrets] or [_FALLBACK_KEY]
