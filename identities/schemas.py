"""Identity schemas: loading, trait validation and the `ory.sh/kratos` extension.

The extension is read the way Kratos reads it: as a JSON Schema keyword that fires for every trait
value the schema validates, so nested objects and arrays of addresses work without a second walk.
"""
from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from jsonschema import Draft7Validator, FormatChecker, validators

from identities.models import ADDRESS_MAX_LENGTH, IDENTIFIER_MAX_LENGTH
from kratos_project.config import get_config
from kratos_project.errors import BadRequest, KratosError, NotFound, SchemaValidationError
from kratos_project.fetcher import fetch

EXTENSION = "ory.sh/kratos"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SchemaLoadError(KratosError):
    message = "Unable to load the identity schema"


@dataclass
class TraitExtensions:
    """What the extension keyword found in one identity's traits, in schema order."""

    identifiers: dict[str, list[str]] = field(default_factory=dict)  # credential type -> identifiers
    code_addresses: list[dict[str, str]] = field(default_factory=list)  # [{"channel", "address"}]
    verifiable: list[tuple[str, str]] = field(default_factory=list)  # (via, value)
    recovery: list[tuple[str, str]] = field(default_factory=list)  # (via, value)

    def add_identifier(self, credential_type: str, value: str) -> None:
        values = self.identifiers.setdefault(credential_type, [])
        if value not in values:
            values.append(value)


_collector: ContextVar[TraitExtensions | None] = ContextVar("trait_extensions", default=None)


def normalize_identifier(value: str) -> str:
    """Kratos's graceful normalisation: identifiers are compared trimmed and lower-cased."""
    return value.strip().lower()


def normalize_phone(value: str) -> str:
    return re.sub(r"[\s().-]", "", value)


def normalize_address(via: str, value: str) -> str:
    return normalize_phone(value) if via == "sms" else normalize_identifier(value)


def _run_extension(validator: Any, config: Any, instance: Any, schema: Any) -> Iterator[Any]:
    collected = _collector.get()
    if collected is None or not isinstance(instance, str) or not isinstance(config, Mapping):
        return
    credentials = config.get("credentials") or {}
    if (limit := _stored_length(config, credentials)) and len(instance) > limit:
        # What the column holds, as a trait error (a schema without `maxLength` would otherwise reach
        # the database: an error on PostgreSQL and MariaDB, a silent success on SQLite).
        yield jsonschema.ValidationError(f"length must be <= {limit}, but got {len(instance)}",
                                         validator="maxLength", validator_value=limit, instance=instance)
        return
    for credential_type in ("password", "webauthn"):
        if (credentials.get(credential_type) or {}).get("identifier"):
            collected.add_identifier(credential_type, normalize_identifier(instance))
    code = credentials.get("code") or {}
    if code.get("identifier"):
        via = code.get("via", "email")
        address = normalize_address(via, instance)
        collected.add_identifier("code", address)
        entry = {"channel": via, "address": address}
        if entry not in collected.code_addresses:
            collected.code_addresses.append(entry)
    if via := (config.get("verification") or {}).get("via"):
        collected.verifiable.append((via, normalize_address(via, instance)))
    if via := (config.get("recovery") or {}).get("via"):
        collected.recovery.append((via, normalize_address(via, instance)))
    yield from ()


def _stored_length(config: Mapping[str, Any], credentials: Mapping[str, Any]) -> int | None:
    """The longest value the database stores for what the extension makes of a trait, if anything."""
    if any((credentials.get(kind) or {}).get("identifier") for kind in ("password", "webauthn", "code")):
        return IDENTIFIER_MAX_LENGTH
    if (config.get("verification") or {}).get("via") or (config.get("recovery") or {}).get("via"):
        return ADDRESS_MAX_LENGTH
    return None


_format_checker = FormatChecker()


@_format_checker.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value.strip()))


@_format_checker.checks("tel")
def _is_tel(value: object) -> bool:
    return not isinstance(value, str) or bool(_E164.match(normalize_phone(value)))


KratosValidator = validators.extend(Draft7Validator, {EXTENSION: _run_extension})


@dataclass(frozen=True)
class IdentitySchema:
    id: str
    url: str
    document: Mapping[str, Any]

    @functools.cached_property
    def validator(self) -> Any:
        return KratosValidator(self.document, format_checker=_format_checker)

    def validate(self, traits: Any) -> TraitExtensions:
        """Validate `traits` (wrapped as Kratos does: `{"traits": …}`) and return the extension data."""
        collected = TraitExtensions()
        token = _collector.set(collected)
        try:
            errors = sorted(self.validator.iter_errors({"traits": traits}), key=lambda e: list(e.absolute_path))
        finally:
            _collector.reset(token)
        if errors:
            raise _validation_error(errors)
        return collected


def _pointer(path: Any) -> str:
    return "#/" + "/".join(str(p) for p in path)


def _validation_error(errors: list[jsonschema.ValidationError]) -> SchemaValidationError:
    described = [{"instance_ptr": _pointer(e.absolute_path), "message": e.message} for e in errors]
    first = described[0]
    reason = f'I[{first["instance_ptr"]}] {first["message"]}'
    error = SchemaValidationError(reason, details={"errors": described})
    error.violations = errors  # the raw jsonschema errors, for flows that turn them into UI messages
    return error


@functools.cache
def _load_document(url: str) -> Mapping[str, Any]:
    try:
        document = json.loads(fetch(url))
    except (OSError, ValueError) as error:
        raise SchemaLoadError(f"Unable to load the identity schema from {url}: {error}") from error
    traits = (document.get("properties") or {}).get("traits") if isinstance(document, dict) else None
    if not isinstance(traits, dict):
        raise SchemaLoadError(f"The identity schema at {url} has no `properties.traits` object.")
    return document


def get_schema(schema_id: str) -> IdentitySchema:
    ref = get_config().schema(schema_id)
    if ref is None:
        raise BadRequest(f"Identity schema `{schema_id}` does not exist.")
    return _compiled(ref.id, ref.url)


@functools.cache
def _compiled(schema_id: str, url: str) -> IdentitySchema:
    """One compiled validator per schema for the life of the process (compiling is the slow part)."""
    return IdentitySchema(id=schema_id, url=url, document=_load_document(url))


def schema_by_public_id(public_id: str) -> IdentitySchema:
    """`GET /schemas/{id}` accepts the id or its unpadded base64url form (as in `schema_url`)."""
    config = get_config()
    for ref in config.schemas:
        if public_id in (ref.id, encode_schema_id(ref.id)):
            return get_schema(ref.id)
    raise NotFound(f"Identity schema `{public_id}` could not be found.")


def all_schemas() -> list[IdentitySchema]:
    return [get_schema(ref.id) for ref in get_config().schemas]


def encode_schema_id(schema_id: str) -> str:
    return base64.urlsafe_b64encode(schema_id.encode()).decode().rstrip("=")


def schema_url(schema_id: str) -> str:
    return f"{get_config().public.base_url}schemas/{encode_schema_id(schema_id)}"
