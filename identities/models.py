"""Identities and what hangs off them, each row inside a network (NID).

`Network` lives here because every other app already depends on identities (sessions, flows and
courier messages all point at an identity), so no app gains a dependency it did not have.
"""
from __future__ import annotations

import uuid

from django.db import models

from kratos_project import clock
from kratos_project.tenancy import NetworkScoped

IDENTIFIER_MAX_LENGTH = 255
ADDRESS_MAX_LENGTH = 400


class Network(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return str(self.id)


class Timestamped(NetworkScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta(NetworkScoped.Meta):
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        self.updated_at = clock.now()
        super().save(*args, **kwargs)


class IdentityState(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Identity(Timestamped):
    schema_id = models.CharField(max_length=255)
    traits = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=IdentityState.choices, default=IdentityState.ACTIVE)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    metadata_public = models.JSONField(null=True, blank=True)
    metadata_admin = models.JSONField(null=True, blank=True)
    external_id = models.CharField(max_length=IDENTIFIER_MAX_LENGTH, null=True, blank=True)
    organization_id = models.UUIDField(null=True, blank=True)

    class Meta(Timestamped.Meta):
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["nid", "external_id"], name="identity_nid_external_id_uniq"),
        ]
        indexes = [
            # Keyset pagination: WHERE nid = ? AND id > ? ORDER BY id LIMIT n.
            models.Index(fields=["nid", "id"], name="identity_nid_id_idx"),
            models.Index(fields=["nid", "organization_id", "id"], name="identity_nid_org_idx"),
        ]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def is_active(self) -> bool:
        return self.state == IdentityState.ACTIVE


class IdentityCredential(Timestamped):
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="credentials")
    type = models.CharField(max_length=32)
    config = models.JSONField(default=dict)
    version = models.IntegerField(default=0)

    class Meta(Timestamped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["nid", "identity", "type"], name="credential_nid_identity_type_uniq"),
        ]


class CredentialIdentifier(Timestamped):
    """One login identifier; unique per network and credential type, enforced by the database."""

    credential = models.ForeignKey(IdentityCredential, on_delete=models.CASCADE, related_name="identifiers")
    type = models.CharField(max_length=32)  # the credential type, copied so uniqueness needs no join
    identifier = models.CharField(max_length=IDENTIFIER_MAX_LENGTH)

    class Meta(Timestamped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["nid", "type", "identifier"], name="identifier_nid_type_value_uniq"),
        ]
        indexes = [models.Index(fields=["nid", "identifier"], name="identifier_nid_value_idx")]


class AddressVia(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"


class VerifiableAddressStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    COMPLETED = "completed"


class VerifiableAddress(Timestamped):
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="verifiable_addresses")
    via = models.CharField(max_length=16, choices=AddressVia.choices)
    value = models.CharField(max_length=ADDRESS_MAX_LENGTH)
    verified = models.BooleanField(default=False)
    status = models.CharField(max_length=16, default=VerifiableAddressStatus.PENDING)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta(Timestamped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["nid", "via", "value"], name="verifiable_nid_via_value_uniq"),
        ]


class RecoveryAddress(Timestamped):
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="recovery_addresses")
    via = models.CharField(max_length=16, choices=AddressVia.choices)
    value = models.CharField(max_length=ADDRESS_MAX_LENGTH)

    class Meta(Timestamped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["nid", "via", "value"], name="recovery_nid_via_value_uniq"),
        ]


def with_relations(queryset: models.QuerySet[Identity]) -> models.QuerySet[Identity]:
    """Load addresses, credentials and identifiers of a page of identities in four queries.

    `to_attr` lists (read through `related()`) avoid Django building one related-manager queryset per
    identity and relation, which dominated the cost of a 250-identity page.
    """
    return queryset.prefetch_related(
        models.Prefetch("verifiable_addresses", queryset=VerifiableAddress.objects.all(), to_attr="_verifiable_addresses"),
        models.Prefetch("recovery_addresses", queryset=RecoveryAddress.objects.all(), to_attr="_recovery_addresses"),
        models.Prefetch("credentials", to_attr="_credentials", queryset=IdentityCredential.objects.prefetch_related(
            models.Prefetch("identifiers", queryset=CredentialIdentifier.objects.all(), to_attr="_identifiers"))),
    )


def related(row: models.Model, name: str) -> list[models.Model]:
    """A relation's rows: the list `with_relations` prefetched, else a query."""
    prefetched = getattr(row, f"_{name}", None)
    return prefetched if prefetched is not None else list(getattr(row, name).all())
