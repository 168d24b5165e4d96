"""Identity use cases. The admin API, the operator console and `manage.py` commands all call these.

Each use case owns its transaction: an identity, its credentials, identifiers and addresses are
written together or not at all. Uniqueness (identifiers, addresses, external ids) is enforced by
the database; a violation becomes Kratos's 409.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Value, When

from identities import credentials as creds
from identities.models import (
    CredentialIdentifier,
    Identity,
    IdentityCredential,
    IdentityState,
    RecoveryAddress,
    VerifiableAddress,
    VerifiableAddressStatus,
)
from identities.schemas import TraitExtensions, get_schema, normalize_address
from kratos_project import clock
from kratos_project.config import get_config
from kratos_project.errors import BadRequest, Conflict, KratosError, NotFound, ResourceNotFound
from kratos_project.tenancy import current_nid

CONFLICT_REASON = "This identity conflicts with another identity that already exists."


@dataclass
class IdentityDraft:
    """The writable fields of an identity, as a create/update/patch body carries them."""

    traits: Any
    schema_id: str = ""
    state: str = ""
    metadata_public: Any = None
    metadata_admin: Any = None
    external_id: str | None = None
    organization_id: UUID | None = None
    verifiable_addresses: list[Mapping[str, Any]] = field(default_factory=list)
    recovery_addresses: list[Mapping[str, Any]] = field(default_factory=list)
    credentials: Mapping[str, Any] = field(default_factory=dict)


def get_identity(identity_id: UUID | str) -> Identity:
    try:
        return Identity.objects.get(id=UUID(str(identity_id)))
    except (Identity.DoesNotExist, ValueError) as error:
        raise ResourceNotFound() from error


def get_identity_by_external_id(external_id: str) -> Identity:
    try:
        return Identity.objects.get(external_id=external_id)
    except Identity.DoesNotExist as error:
        raise ResourceNotFound() from error


def create_identity(draft: IdentityDraft) -> Identity:
    identity, rows = _plan_creation(draft)
    try:
        with transaction.atomic():
            rows.insert()
    except IntegrityError as error:
        raise Conflict(CONFLICT_REASON) from error
    return identity


def update_identity(identity: Identity, draft: IdentityDraft) -> Identity:
    """PUT semantics: traits, metadata and external_id are replaced; empty schema_id/state are kept."""
    if draft.schema_id:
        identity.schema_id = draft.schema_id
    _assign(identity, draft)
    # One transaction: a conflict on write must not leave the sessions of a deactivation ended.
    with transaction.atomic():
        if draft.state and draft.state != identity.state:
            _change_state(identity, draft.state)
        return _write(identity, draft)


def set_identity_state(identity: Identity, state: str) -> Identity:
    if identity.state != state:
        with transaction.atomic():
            _change_state(identity, state)
            identity.save(update_fields=["state", "state_changed_at", "updated_at"])
    return identity


def _change_state(identity: Identity, state: str) -> None:
    """The one place a state changes (the caller saves). Deactivating ends the identity's sessions:
    our product rule, stricter than Kratos, whose sessions only stop validating and come back on
    reactivation (reference §5.3)."""
    identity.state = state
    identity.state_changed_at = clock.now()
    if state == IdentityState.INACTIVE:
        from sessions_app.services import revoke_identity_sessions  # sessions_app imports identities

        revoke_identity_sessions(identity)


def delete_identity(identity: Identity) -> None:
    with transaction.atomic():
        identity.delete()


def _assign(identity: Identity, draft: IdentityDraft) -> None:
    if draft.state not in ("", IdentityState.ACTIVE, IdentityState.INACTIVE):
        raise BadRequest(f"identity state is not valid: {draft.state!r}")
    if draft.external_id == "":
        raise BadRequest("The external ID must not be empty.")
    identity.traits = draft.traits
    identity.metadata_public = draft.metadata_public
    identity.metadata_admin = draft.metadata_admin
    identity.external_id = draft.external_id


@dataclass
class _NewRows:
    """Rows that one or many creations add, inserted with one bulk INSERT per table, parents first."""

    identities: list[Identity] = field(default_factory=list)
    credentials: list[IdentityCredential] = field(default_factory=list)
    identifiers: list[CredentialIdentifier] = field(default_factory=list)
    verifiable: list[VerifiableAddress] = field(default_factory=list)
    recovery: list[RecoveryAddress] = field(default_factory=list)

    def extend(self, other: _NewRows) -> None:
        for name in ("identities", "credentials", "identifiers", "verifiable", "recovery"):
            getattr(self, name).extend(getattr(other, name))

    def insert(self) -> None:
        for rows in (self.identities, self.credentials, self.identifiers, self.verifiable, self.recovery):
            if rows:
                type(rows[0]).objects.bulk_create(rows)


def _plan_creation(draft: IdentityDraft) -> tuple[Identity, _NewRows]:
    """Validate a new identity and build (without saving) every row it needs."""
    identity = Identity(
        schema_id=draft.schema_id or get_config().default_schema_id, state=draft.state or IdentityState.ACTIVE,
        state_changed_at=clock.now(), organization_id=draft.organization_id, nid_id=current_nid(),
    )
    _assign(identity, draft)
    extensions = get_schema(identity.schema_id).validate(identity.traits)
    rows = _NewRows(identities=[identity])
    for credential_type, (config, identifiers) in _wanted_credentials(extensions, draft.credentials, {}).items():
        credential = IdentityCredential(identity=identity, type=credential_type, config=config, nid_id=identity.nid_id,
                                        version=creds.VERSIONS.get(credential_type, 0))
        rows.credentials.append(credential)
        rows.identifiers += [CredentialIdentifier(credential=credential, type=credential_type, identifier=value,
                                                  nid_id=identity.nid_id) for value in identifiers]
    given = _imported_addresses(draft.verifiable_addresses)
    for via, value in dict.fromkeys(extensions.verifiable):
        address = VerifiableAddress(identity=identity, via=via, value=value, nid_id=identity.nid_id)
        if (via, value) in given:
            _apply_imported_status(address, given[(via, value)])
        rows.verifiable.append(address)
    rows.recovery = [RecoveryAddress(identity=identity, via=via, value=value, nid_id=identity.nid_id)
                     for via, value in dict.fromkeys(extensions.recovery)]
    return identity, rows


def _write(identity: Identity, draft: IdentityDraft) -> Identity:
    extensions = get_schema(identity.schema_id).validate(identity.traits)
    try:
        with transaction.atomic():
            identity.save()
            stored = {c.type: c for c in identity.credentials.all()}
            for credential_type, (config, identifiers) in _wanted_credentials(extensions, draft.credentials, stored).items():
                _put_credential(identity, stored.get(credential_type), credential_type, config, identifiers)
            _sync_verifiable_addresses(identity, extensions, draft.verifiable_addresses)
            _sync_recovery_addresses(identity, extensions)
    except IntegrityError as error:
        raise Conflict(CONFLICT_REASON) from error
    return identity


def _wanted_credentials(
    extensions: TraitExtensions, imported: Mapping[str, Any], stored: Mapping[str, IdentityCredential],
) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Each credential type the identity should have: its config and identifiers.

    As Kratos, a trait marked as an identifier creates its credential even without a secret, so a
    password can be set later; imported passwords and provider links come from the body.
    """
    if unknown := set(imported) - set(creds.IMPORTABLE_TYPES):
        raise BadRequest(f"json: unknown field \"credentials.{sorted(unknown)[0]}\"")
    wanted: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for credential_type in ("password", "webauthn"):
        existing = stored.get(credential_type)
        if credential_type in extensions.identifiers or existing is not None:
            wanted[credential_type] = (existing.config if existing else {}, extensions.identifiers.get(credential_type, []))
    if "code" in extensions.identifiers or "code" in stored:
        addresses = sorted(extensions.code_addresses, key=lambda a: (a["address"], a["channel"]))
        wanted["code"] = ({"addresses": addresses}, extensions.identifiers.get("code", []))
    if (password := imported.get("password")) is not None:  # present, even empty: Kratos refuses an empty one
        wanted["password"] = (creds.password_config(password.get("config") or {}),
                              extensions.identifiers.get("password", []))
    for provider_type in ("oidc", "saml"):
        if link := (imported.get(provider_type) or {}).get("config"):
            existing = stored.get(provider_type)
            config = creds.provider_config(link, existing.config if existing else None)
            wanted[provider_type] = (config, creds.provider_identifiers(config))
    return wanted


def _put_credential(
    identity: Identity, credential: IdentityCredential | None, credential_type: str, config: dict[str, Any],
    identifiers: list[str],
) -> None:
    is_new = credential is None
    if credential is None:
        credential = IdentityCredential(identity=identity, type=credential_type,
                                        version=creds.VERSIONS.get(credential_type, 0), nid_id=identity.nid_id)
    credential.config = config
    credential.save()
    current = {} if is_new else {i.identifier: i for i in credential.identifiers.all()}
    stale = [i.id for value, i in current.items() if value not in identifiers]
    if stale:
        CredentialIdentifier.objects.filter(id__in=stale).delete()
    CredentialIdentifier.objects.bulk_create(
        CredentialIdentifier(credential=credential, type=credential_type, identifier=value, nid_id=identity.nid_id)
        for value in identifiers if value not in current
    )


def _imported_addresses(imported: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(a.get("via", "email"), normalize_address(a.get("via", "email"), str(a.get("value", "")))): a
            for a in imported}


def _sync_verifiable_addresses(identity: Identity, extensions: TraitExtensions,
                               imported: Iterable[Mapping[str, Any]]) -> None:
    """Addresses follow the traits; an imported or stored address for the same value keeps its status."""
    existing = {(a.via, a.value): a for a in identity.verifiable_addresses.all()}
    given = _imported_addresses(imported)
    wanted = list(dict.fromkeys(extensions.verifiable))
    for via, value in wanted:
        address = existing.get((via, value)) or VerifiableAddress(identity=identity, via=via, value=value,
                                                                    nid_id=identity.nid_id)
        if (via, value) in given:
            _apply_imported_status(address, given[(via, value)])
        if address._state.adding or (via, value) in given:
            address.save()
    _delete_missing(existing, wanted)


def _apply_imported_status(address: VerifiableAddress, imported: Mapping[str, Any]) -> None:
    address.verified = bool(imported.get("verified", False))
    status = imported.get("status") or (VerifiableAddressStatus.COMPLETED if address.verified else VerifiableAddressStatus.PENDING)
    if status not in VerifiableAddressStatus.values:
        raise BadRequest(f"verifiable address status is not valid: {status!r}")
    address.status = status
    address.verified_at = imported.get("verified_at") or (clock.now() if address.verified else None)


def _sync_recovery_addresses(identity: Identity, extensions: TraitExtensions) -> None:
    existing = {(a.via, a.value): a for a in identity.recovery_addresses.all()}
    wanted = list(dict.fromkeys(extensions.recovery))
    RecoveryAddress.objects.bulk_create(
        RecoveryAddress(identity=identity, via=via, value=value, nid_id=identity.nid_id)
        for via, value in wanted if (via, value) not in existing
    )
    _delete_missing(existing, wanted)


def _delete_missing(existing: Mapping[tuple[str, str], Any], wanted: list[tuple[str, str]]) -> None:
    for key, row in existing.items():
        if key not in wanted:
            row.delete()


def delete_credential(identity: Identity, credential_type: str, identifier: str = "") -> None:
    """Kratos's rules: second factors always go; a first factor only while another one remains."""
    credentials = {c.type: c for c in identity.credentials.all()}
    credential = credentials.get(credential_type)
    if credential is None:
        raise NotFound(f"You tried to remove a {credential_type} but this user have no {credential_type} set up.")
    if credential_type in creds.REMOVABLE_TYPES:
        credential.delete()
        return
    if credential_type not in creds.FIRST_FACTOR_TYPES:
        raise BadRequest(f"Credentials type {credential_type} cannot be deleted.")
    others = [c for t, c in credentials.items() if t != credential_type and creds.is_first_factor(t, c.config)]
    if credential_type in ("oidc", "saml") and identifier:
        _unlink_provider(identity, credential, identifier, has_other_factor=bool(others))
        return
    if not others:
        raise BadRequest("You cannot remove the last first factor credential.")
    credential.delete()


def _unlink_provider(identity: Identity, credential: IdentityCredential, identifier: str, *, has_other_factor: bool) -> None:
    providers = credential.config.get("providers", [])
    remaining = [p for p in providers if f'{p["provider"]}:{p["subject"]}' != identifier]
    if len(remaining) == len(providers):
        raise NotFound(f"You tried to remove the {credential.type} link {identifier} but it does not exist.")
    if not remaining and not has_other_factor:
        raise BadRequest("You cannot remove the last first factor credential.")
    with transaction.atomic():
        if not remaining:
            credential.delete()
            return
        _put_credential(identity, credential, credential.type, {"providers": remaining},
                        creds.provider_identifiers({"providers": remaining}))


# Paths an admin may not patch (Kratos refuses them too): the id, timestamps and credentials.
_UNPATCHABLE = ("/id", "/credentials", "/state_changed_at", "/created_at", "/updated_at", "/schema_url")


def patch_identity(identity: Identity, operations: Any) -> Identity:
    """`PATCH /admin/identities/{id}`: RFC 6902 over the identity's writable JSON, then a PUT."""
    from identities.jsonpatch import PatchError, apply_patch

    if isinstance(operations, list):
        for operation in operations:
            path = operation.get("path") if isinstance(operation, Mapping) else None
            # A path that is not a string is apply_patch's to refuse.
            if isinstance(path, str) and any(path == p or path.startswith(p + "/") for p in _UNPATCHABLE):
                raise BadRequest(f"patch includes denied path: {path}")
    document = {
        "schema_id": identity.schema_id, "state": identity.state, "traits": identity.traits,
        "metadata_public": identity.metadata_public, "metadata_admin": identity.metadata_admin,
        "external_id": identity.external_id,
    }
    try:
        patched = apply_patch(document, operations)
    except PatchError as error:
        raise BadRequest(f"An error occured when applying the JSON patch: {error}") from error
    if not isinstance(patched, Mapping) or set(patched) - set(document):
        raise BadRequest("An error occured when applying the JSON patch: unknown identity field")
    if patched.get("state") not in (IdentityState.ACTIVE, IdentityState.INACTIVE):
        raise BadRequest(
            f"The supplied state ('{patched.get('state')}') was not valid. Valid states are ('active', 'inactive')."
        )
    if not isinstance(patched.get("traits"), Mapping):
        raise BadRequest("traits must be a JSON object")
    draft = IdentityDraft(
        traits=patched["traits"], schema_id=patched.get("schema_id") or "", state=patched["state"],
        metadata_public=patched.get("metadata_public"), metadata_admin=patched.get("metadata_admin"),
        external_id=patched.get("external_id") or None,
    )
    return update_identity(identity, draft)


@dataclass(frozen=True)
class BatchResult:
    patch_id: UUID | None
    identity: Identity | None = None
    error: Exception | None = None


def create_identities(items: Iterable[tuple[UUID | None, Any]], build: Any) -> list[BatchResult]:
    """Create many identities; each item succeeds or fails on its own, none is half-written.

    `build` turns a raw create body into an `IdentityDraft` (raising a KratosError when it is
    malformed). The valid items are inserted with one bulk INSERT per table; only when that hits a
    uniqueness conflict are they retried one by one, each in its own savepoint, to find the culprits.
    """
    results: list[BatchResult] = []
    planned: list[tuple[int, _NewRows]] = []
    for patch_id, body in items:
        try:
            identity, rows = _plan_creation(build(body))
        except KratosError as error:
            results.append(BatchResult(patch_id, error=error))
            continue
        planned.append((len(results), rows))
        results.append(BatchResult(patch_id, identity=identity))
    with transaction.atomic():
        try:
            with transaction.atomic():
                merged = _NewRows()
                for _, rows in planned:
                    merged.extend(rows)
                merged.insert()
        except IntegrityError:
            for index, rows in planned:
                try:
                    with transaction.atomic():
                        rows.insert()
                except IntegrityError:
                    results[index] = BatchResult(results[index].patch_id, error=Conflict(CONFLICT_REASON))
    return results


@dataclass(frozen=True)
class IdentityFilter:
    ids: tuple[UUID, ...] = ()
    credentials_identifier: str = ""
    identifier_similar: str = ""
    organization_id: UUID | None = None


def identities_matching(criteria: IdentityFilter) -> Any:
    """The scoped queryset for `GET /admin/identities`'s filters (Kratos allows one at a time)."""
    queryset = Identity.objects.all()
    if criteria.ids:
        queryset = queryset.filter(id__in=criteria.ids)
    if criteria.organization_id:
        queryset = queryset.filter(organization_id=criteria.organization_id)
    if value := criteria.credentials_identifier:
        matches = CredentialIdentifier.objects.filter(identifier__in={value, normalize_identifier_for_lookup(value)})
        queryset = queryset.filter(id__in=matches.values("credential__identity_id"))
    if value := criteria.identifier_similar:
        matches = CredentialIdentifier.objects.filter(identifier__icontains=value)
        queryset = queryset.filter(id__in=matches.values("credential__identity_id"))
    return queryset


def normalize_identifier_for_lookup(value: str) -> str:
    from identities.schemas import normalize_identifier

    return normalize_identifier(value)


def identifiers_starting_with(term: str) -> QuerySet[CredentialIdentifier]:
    """The operator console's identifier search: a prefix, as typed or normalised (stored identifiers are)."""
    return CredentialIdentifier.objects.filter(
        Q(identifier__startswith=term) | Q(identifier__startswith=normalize_identifier_for_lookup(term)))


def primary_identifiers(identity: str = "pk") -> QuerySet[CredentialIdentifier]:
    """A subquery for the identifier an operator knows the identity `OuterRef(identity)` by: a
    password identifier, else the first one."""
    return CredentialIdentifier.objects.filter(credential__identity=OuterRef(identity)).order_by(
        Case(When(type="password", then=Value(0)), default=Value(1), output_field=IntegerField()), "identifier",
    ).values("identifier")[:1]


def identities_after(queryset: Any, token: str | None, limit: int) -> list[Identity]:
    """One keyset page: `WHERE nid = ? AND id > token ORDER BY id LIMIT n` (index identity_nid_id_idx)."""
    if token:
        try:
            queryset = queryset.filter(id__gt=UUID(token))
        except ValueError as error:
            raise BadRequest("The page token is invalid, do not craft your own page tokens") from error
    return list(queryset.order_by("id")[:limit])


def _unchanged_draft(identity: Identity, **changes: Any) -> IdentityDraft:
    """A draft that keeps every field of `identity` except `changes` (self-service edits)."""
    fields = {
        "traits": identity.traits, "schema_id": identity.schema_id, "state": identity.state,
        "metadata_public": identity.metadata_public, "metadata_admin": identity.metadata_admin,
        "external_id": identity.external_id,
    }
    return IdentityDraft(**{**fields, **changes})


def update_traits(identity: Identity, traits: Any) -> Identity:
    """A self-service profile change: only the traits (and what follows from them) change."""
    return update_identity(identity, _unchanged_draft(identity, traits=traits))


def set_password(identity: Identity, password: str) -> Identity:
    """A self-service password change, hashed with the configured hasher."""
    return update_identity(identity, _unchanged_draft(identity, credentials={"password": {"config": {"password": password}}}))
