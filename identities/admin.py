"""The operator console (Django admin at `/console/` on the admin port only).

Operators look identities up and change their state; they never edit rows through a form. Every
change goes through `identities.services`, as the admin API does, and credential configs (password
hashes, TOTP secrets, provider tokens) are never loaded, let alone rendered.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField, Value, When
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from identities.models import CredentialIdentifier, Identity, IdentityState
from identities.schemas import normalize_identifier
from identities.services import delete_identity, set_identity_state


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("id", "primary_identifier", "schema_id", "state", "created_at")
    list_filter = ("state", "schema_id")
    # Only shows the search box: `get_search_results` replaces Django's lookup over these fields.
    search_fields = ("credentials__identifiers__identifier", "traits")
    search_help_text = "An identifier (exact or prefix) or any text in the traits."
    actions = ("activate", "deactivate")
    fieldsets = (
        (None, {"fields": ("id", "schema_id", "state", "state_changed_at", "external_id", "organization_id",
                           "created_at", "updated_at")}),
        ("Traits", {"fields": ("traits_json",)}),
        ("Addresses", {"fields": ("verifiable_addresses_table", "recovery_addresses_table")}),
        ("Credentials", {"fields": ("credentials_table",)}),
        ("Metadata", {"fields": ("metadata_public_json", "metadata_admin_json")}),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])

    def get_queryset(self, request: HttpRequest) -> QuerySet[Identity]:
        # The scoped manager: the request's network only, so another tenant's identities never list
        # and their change pages resolve to "does not exist".
        return Identity.objects.annotate(primary_identifier=Subquery(_primary_identifiers()))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Identity], search_term: str
    ) -> tuple[QuerySet[Identity], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        identifiers = CredentialIdentifier.objects.filter(
            Q(identifier__startswith=term) | Q(identifier__startswith=normalize_identifier(term)),
            credential__identity=OuterRef("pk"),
        )
        # JSON as text is the one trait search every backend runs. SQLite and MariaDB keep the JSON
        # Django wrote, with non-ASCII escaped ("\u00eb"); PostgreSQL's jsonb prints the character.
        spellings = {term, json.dumps(term)[1:-1]}
        in_traits = Q()
        for spelling in spellings:
            in_traits |= Q(traits_text__icontains=spelling)
        queryset = queryset.alias(traits_text=Cast("traits", output_field=TextField()))
        # EXISTS rather than a join: an identity with several matching identifiers is listed once.
        return queryset.filter(Exists(identifiers) | in_traits), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # identities are created through the admin API or an import, which validate traits

    def has_change_permission(self, request: HttpRequest, obj: Identity | None = None) -> bool:
        # The change page is view-only; the permission itself still gates the state actions.
        return obj is None and super().has_change_permission(request)

    def delete_model(self, request: HttpRequest, obj: Identity) -> None:
        delete_identity(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Identity]) -> None:
        with transaction.atomic():
            for identity in queryset:
                delete_identity(identity)

    @admin.action(description="Activate selected identities", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Identity]) -> None:
        self._set_state(request, queryset, IdentityState.ACTIVE)

    @admin.action(description="Deactivate selected identities", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Identity]) -> None:
        self._set_state(request, queryset, IdentityState.INACTIVE)

    def _set_state(self, request: HttpRequest, queryset: QuerySet[Identity], state: IdentityState) -> None:
        with transaction.atomic():
            identities = list(queryset)
            for identity in identities:
                set_identity_state(identity, state)
                self.log_change(request, identity, f"Set state to {state.value}.")
        self.message_user(request, f"{len(identities)} identities are now {state.value}.", messages.SUCCESS)

    @admin.display(description="Primary identifier", ordering="primary_identifier")
    def primary_identifier(self, identity: Identity) -> str | None:
        return identity.primary_identifier  # type: ignore[attr-defined]

    @admin.display(description="Traits")
    def traits_json(self, identity: Identity) -> str:
        return self._json(identity.traits)

    @admin.display(description="Public metadata")
    def metadata_public_json(self, identity: Identity) -> str:
        return self._json(identity.metadata_public)

    @admin.display(description="Admin metadata")
    def metadata_admin_json(self, identity: Identity) -> str:
        return self._json(identity.metadata_admin)

    @admin.display(description="Verifiable addresses")
    def verifiable_addresses_table(self, identity: Identity) -> str:
        rows = identity.verifiable_addresses.order_by("value").values_list("value", "via", "verified", "status")
        return self._table(("Value", "Via", "Verified", "Status"), (
            (value, via, display_for_value(verified, "", boolean=True), status)
            for value, via, verified, status in rows
        ))

    @admin.display(description="Recovery addresses")
    def recovery_addresses_table(self, identity: Identity) -> str:
        return self._table(("Value", "Via"), identity.recovery_addresses.order_by("value").values_list("value", "via"))

    @admin.display(description="Credentials")
    def credentials_table(self, identity: Identity) -> str:
        # values_list keeps `config` in the database: only types and identifiers are read.
        identifiers: defaultdict[str, list[str]] = defaultdict(list)
        for credential_type, identifier in CredentialIdentifier.objects.filter(
            credential__identity=identity
        ).order_by("identifier").values_list("type", "identifier"):
            identifiers[credential_type].append(identifier)
        types = identity.credentials.order_by("type").values_list("type", flat=True)
        return self._table(("Type", "Identifiers"), ((t, ", ".join(identifiers[t])) for t in types))

    def _json(self, value: Any) -> str:
        if value is None:
            return self.get_empty_value_display()
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))

    def _table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
        cells = [format_html_join("", "<td>{}</td>", ((cell,) for cell in row)) for row in rows]
        if not cells:
            return self.get_empty_value_display()
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<th>{}</th>", ((header,) for header in headers)),
            format_html_join("", "<tr>{}</tr>", ((row,) for row in cells)),
        )


def _primary_identifiers() -> QuerySet[CredentialIdentifier]:
    """The identifier an operator knows an identity by: a password identifier, else the first one."""
    return CredentialIdentifier.objects.filter(credential__identity=OuterRef("pk")).order_by(
        Case(When(type="password", then=Value(0)), default=Value(1), output_field=IntegerField()), "identifier",
    ).values("identifier")[:1]
