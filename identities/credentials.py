"""Credential configs: what an import body turns into, and which types count as a first factor.

Stored shapes follow Kratos (reference §6.5) so `include_credential` output matches it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from identities import hashing
from identities.models import IDENTIFIER_MAX_LENGTH
from kratos_project.config import get_config
from kratos_project.errors import BadRequest

IMPORTABLE_TYPES = ("password", "oidc", "saml")
ALL_TYPES = (
    "password", "oidc", "totp", "lookup_secret", "webauthn", "code", "passkey", "profile", "saml",
    "link_recovery", "code_recovery",
)
# Second factors can always be removed by an admin; first factors only while another remains.
REMOVABLE_TYPES = ("totp", "lookup_secret", "webauthn")
FIRST_FACTOR_TYPES = ("password", "oidc", "saml")
# Versions Kratos stamps on new credentials of these types.
VERSIONS = {"code": 1, "webauthn": 1, "passkey": 1}


def password_config(imported: Mapping[str, Any]) -> dict[str, Any]:
    """Turn `credentials.password.config` of an import body into the stored config.

    As in Kratos: a non-empty `password` is hashed (and wins over `hashed_password`); otherwise
    `hashed_password` must be a known format, so an empty or missing one is refused rather than
    stored as an account that anyone could sign in to."""
    if imported.get("use_password_migration_hook"):
        return {"hashed_password": "", "use_password_migration_hook": True}
    if password := imported.get("password"):
        try:
            return {"hashed_password": hashing.hash_password(password, get_config().hashers)}
        except hashing.PasswordTooLong as error:
            raise BadRequest("The password must not be longer than 72 bytes with the bcrypt hasher.") from error
    hashed = imported.get("hashed_password") or ""
    if not hashing.is_supported_hash(hashed):
        raise BadRequest(
            "The imported password does not match any known hash format. "
            "Supported formats are bcrypt, argon2, pbkdf2, scrypt, firescrypt, md5, sha, ssha, crypt and hmac."
        )
    return {"hashed_password": hashed}


def provider_config(imported: Mapping[str, Any], existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge imported OIDC/SAML provider links into the stored `providers` list."""
    providers = list((existing or {}).get("providers", []))
    known = {(p["provider"], p["subject"]) for p in providers}
    for link in imported.get("providers") or []:
        if not link.get("provider") or not link.get("subject"):
            raise BadRequest("Every imported provider link needs `provider` and `subject`.")
        if len(identifier := provider_identifier(link)) > IDENTIFIER_MAX_LENGTH:
            raise BadRequest(f"The provider link {identifier[:40]}… is longer than {IDENTIFIER_MAX_LENGTH} characters.")
        if (link["provider"], link["subject"]) in known:
            continue
        stored = {
            "subject": link["subject"], "provider": link["provider"],
            "initial_id_token": "", "initial_access_token": "", "initial_refresh_token": "",
        }
        if link.get("organization"):
            stored["organization"] = link["organization"]
        if link.get("use_auto_link"):
            stored["use_auto_link"] = True
        providers.append(stored)
        known.add((link["provider"], link["subject"]))
    return {"providers": providers}


def provider_identifier(link: Mapping[str, Any]) -> str:
    return f'{link["provider"]}:{link["subject"]}'


def provider_identifiers(config: Mapping[str, Any]) -> list[str]:
    return [provider_identifier(link) for link in config.get("providers", [])]


def is_first_factor(credential_type: str, config: Mapping[str, Any]) -> bool:
    if credential_type == "password":
        return bool(config.get("hashed_password") or config.get("use_password_migration_hook"))
    if credential_type in ("oidc", "saml"):
        return bool(config.get("providers"))
    if credential_type == "passkey":
        return bool(config.get("credentials"))
    if credential_type == "webauthn":
        return any(c.get("is_passwordless") for c in config.get("credentials", []))
    return False
