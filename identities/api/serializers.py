"""Shapes of the admin identity API: strict input serializers and the identity JSON of each surface."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from rest_framework import serializers

from identities.models import ADDRESS_MAX_LENGTH, IDENTIFIER_MAX_LENGTH, Identity, related
from identities.schemas import schema_url
from identities.services import IdentityDraft
from kratos_project.errors import BadRequest, as_kratos_error
from kratos_project.jsontime import rfc3339


class StrictSerializer(serializers.Serializer):
    """Kratos decodes admin bodies strictly: an unknown field is a 400, not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise BadRequest("The request body must be a JSON object.")
        if unknown := sorted(set(data) - set(self.fields)):
            raise BadRequest(f'json: unknown field "{unknown[0]}"')
        return super().to_internal_value(data)


class JSONObjectField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object")
        return data


class PasswordConfigIn(StrictSerializer):
    password = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    hashed_password = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    use_password_migration_hook = serializers.BooleanField(required=False)


class ProviderLinkIn(StrictSerializer):
    provider = serializers.CharField()
    subject = serializers.CharField()
    use_auto_link = serializers.BooleanField(required=False)
    organization = serializers.UUIDField(required=False, allow_null=True)


class ProvidersConfigIn(StrictSerializer):
    providers = ProviderLinkIn(many=True)


def _credential_in(config: serializers.Serializer) -> StrictSerializer:
    return type("CredentialIn", (StrictSerializer,), {"config": config})()


class CredentialsIn(StrictSerializer):
    password = _credential_in(PasswordConfigIn())
    oidc = _credential_in(ProvidersConfigIn())
    saml = _credential_in(ProvidersConfigIn())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class VerifiableAddressIn(serializers.Serializer):
    value = serializers.CharField(max_length=ADDRESS_MAX_LENGTH)
    via = serializers.ChoiceField(choices=["email", "sms"], required=False, default="email")
    verified = serializers.BooleanField(required=False, default=False)
    status = serializers.CharField(required=False, allow_blank=True, max_length=16)  # the spec's limit
    verified_at = serializers.DateTimeField(required=False, allow_null=True)


class RecoveryAddressIn(serializers.Serializer):
    value = serializers.CharField(max_length=ADDRESS_MAX_LENGTH)
    via = serializers.ChoiceField(choices=["email", "sms"], required=False, default="email")


class IdentityBodyIn(StrictSerializer):
    schema_id = serializers.CharField(required=False, allow_blank=True, default="")
    traits = JSONObjectField()
    state = serializers.ChoiceField(choices=["active", "inactive"], required=False, allow_blank=True, default="")
    metadata_public = serializers.JSONField(required=False, allow_null=True, default=None)
    metadata_admin = serializers.JSONField(required=False, allow_null=True, default=None)
    external_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None,
                                        max_length=IDENTIFIER_MAX_LENGTH)
    credentials = CredentialsIn(required=False)

    def validate_external_id(self, value: str | None) -> str | None:
        return value or None  # Kratos stores an empty external id as none

    def draft(self) -> IdentityDraft:
        data = dict(self.validated_data)
        return IdentityDraft(**data)


class CreateIdentityIn(IdentityBodyIn):
    organization_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    verifiable_addresses = VerifiableAddressIn(many=True, required=False)
    recovery_addresses = RecoveryAddressIn(many=True, required=False)


_CREATE_BODY = CreateIdentityIn()


def draft_from_create_body(body: Any) -> IdentityDraft:
    """One `createIdentityBody` → draft, for callers that validate item by item (batch API, import).

    A malformed body raises the same KratosError (400) that `POST /admin/identities` would answer.
    """
    try:
        # One shared instance: building a serializer deep-copies its fields, the slow part of a batch.
        return IdentityDraft(**_CREATE_BODY.run_validation(body))
    except serializers.ValidationError as error:
        raise as_kratos_error(error) from error


class UpdateIdentityIn(IdentityBodyIn):
    """PUT body; decoded leniently by Kratos, so unknown fields are ignored here."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise BadRequest("The request body must be a JSON object.")
        return serializers.Serializer.to_internal_value(self, {k: v for k, v in data.items() if k in self.fields})


class IdentityPatchIn(serializers.Serializer):
    patch_id = serializers.UUIDField(required=False, allow_null=True)
    create = serializers.JSONField()


class BatchPatchIn(StrictSerializer):
    identities = IdentityPatchIn(many=True, max_length=1000)


# --- output ---------------------------------------------------------------------------------


def identity_json(
    identity: Identity, *, admin: bool, credentials: str = "none", declassify: Collection[str] = ()
) -> dict[str, Any]:
    """The identity as one surface shows it.

    `credentials`: "none" (public contexts and plain lists), "no_config" (admin single GET), or
    "declassified" (config only for the types in `declassify`, as `include_credential` asks).
    """
    body: dict[str, Any] = {
        "id": str(identity.id),
        "schema_id": identity.schema_id,
        "schema_url": schema_url(identity.schema_id),
        "state": identity.state,
        "traits": identity.traits,
    }
    if identity.state_changed_at:
        body["state_changed_at"] = rfc3339(identity.state_changed_at)
    if verifiable := [_verifiable_json(a) for a in _ordered(related(identity, "verifiable_addresses"))]:
        body["verifiable_addresses"] = verifiable
    if recovery := [_recovery_json(a) for a in _ordered(related(identity, "recovery_addresses"))]:
        body["recovery_addresses"] = recovery
    body["metadata_public"] = identity.metadata_public
    if admin:
        body["metadata_admin"] = identity.metadata_admin
        if credentials != "none":
            body["credentials"] = {
                c.type: _credential_json(c, with_config=credentials == "declassified" and c.type in declassify)
                for c in sorted(related(identity, "credentials"), key=lambda c: c.type)
            }
    if identity.external_id:
        body["external_id"] = identity.external_id
    body["organization_id"] = str(identity.organization_id) if identity.organization_id else None
    body["created_at"] = rfc3339(identity.created_at)
    body["updated_at"] = rfc3339(identity.updated_at)
    return body


def _ordered(rows: Any) -> list[Any]:
    return sorted(rows, key=lambda row: (row.created_at, row.value))


def _verifiable_json(address: Any) -> dict[str, Any]:
    body = {
        "id": str(address.id), "value": address.value, "verified": address.verified, "via": address.via,
        "status": address.status,
    }
    if address.verified_at:
        body["verified_at"] = rfc3339(address.verified_at)
    body["created_at"] = rfc3339(address.created_at)
    body["updated_at"] = rfc3339(address.updated_at)
    return body


def _recovery_json(address: Any) -> dict[str, Any]:
    return {
        "id": str(address.id), "value": address.value, "via": address.via,
        "created_at": rfc3339(address.created_at), "updated_at": rfc3339(address.updated_at),
    }


def _credential_json(credential: Any, *, with_config: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": credential.type,
        "identifiers": sorted(i.identifier for i in related(credential, "identifiers")),
        "version": credential.version,
        "created_at": rfc3339(credential.created_at),
        "updated_at": rfc3339(credential.updated_at),
    }
    if with_config:
        body["config"] = credential.config
    return body
