"""Session and logout tokens in Kratos's form (`x/token_prefixes.go`); neither is stored in clear.

A session token is `ory_st_` + 32 characters of [A-Za-z0-9] (about 190 bits from `secrets`), so an
unsalted SHA-256 is the right hash: nothing guessable exists to precompute. The database is
searched by the hash, so no comparison of secret values ever runs in Python (no timing leak), and a
read of the table yields nothing that authenticates. Logout tokens are not stored at all (below).
"""
from __future__ import annotations

import hashlib
import secrets
import string

SESSION_TOKEN_PREFIX = "ory_st_"
LOGOUT_TOKEN_PREFIX = "ory_lo_"
TOKEN_LENGTH = 32  # characters after the prefix, as Kratos's randx.MustString(32, randx.AlphaNum)
_ALPHABET = string.ascii_letters + string.digits


def new_session_token() -> str:
    return SESSION_TOKEN_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(TOKEN_LENGTH))


def logout_token_for(session_token: str) -> str:
    """The session's logout token (`ory_lo_…`), derived from its session token.

    Kratos stores the logout token in clear and shows it again on every
    `GET /self-service/logout/browser`; we keep only hashes, so the token is instead recomputed from
    the session token the browser's cookie carries. A one-way derivation: the logout token (which
    ends up in URLs and logs) reveals nothing about the session token.
    """
    digest = int.from_bytes(hashlib.sha256(f"logout:{session_token}".encode()).digest(), "big")
    characters = []
    for _ in range(TOKEN_LENGTH):
        digest, index = divmod(digest, len(_ALPHABET))
        characters.append(_ALPHABET[index])
    return LOGOUT_TOKEN_PREFIX + "".join(characters)


def token_hash(token: str) -> str:
    """Lowercase hex SHA-256: what the database holds and is searched by."""
    return hashlib.sha256(token.encode()).hexdigest()
