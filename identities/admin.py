"""The operator console (Django admin at `/console/` on the admin port only).

Operators look identities up, change their state, end their sessions and create recovery links
for them; they never edit rows through a form. Every change goes through the services the admin API
calls, and credential configs (password hashes, TOTP secrets, provider tokens) are never loaded, let
alone rendered.

Networks are listed too. That page alone is not scoped to the request's network: a network is the
installation's record of a tenant (an id and timestamps), and console accounts are installation-wide.
"""
from __future__ import annotations

import json
from collections import defaultdict

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest

from identities.models import CredentialIdentifier, Identity, IdentityState, Network
from identities.services import (
    delete_identity,
    identifiers_starting_with,
    primary_identifiers,
    set_identity_state,
)
from kratos_project.config import get_config
from kratos_project.console import ReadOnlyAdmin
from kratos_project.tenancy import default_nid
from selfservice import codes
from selfservice.flows.recovery import RECOVERY
from selfservice.models import FlowType
from selfservice.responses import with_query
from sessions_app.admin import identity_sessions_table
from sessions_app.services import revoke_identity_sessions
from strategies.code.recovery import create_recovery_code
from strategies.link.recovery import create_recovery_link, recovery_url


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    list_display = ("id", "primary_identifier", "schema_id", "state", "created_at")
    list_filter = ("state", "schema_id")
    # Only shows the search box: `get_search_results` replaces Django's lookup over these fields.
    search_fields = ("credentials__identifiers__identifier", "traits")
    search_help_text = "An identifier (exact or prefix) or any text in the traits."
    actions = ("activate", "deactivate", "revoke_sessions", "send_recovery_link")
    fieldsets = (
        (None, {"fields": ("id", "schema_id", "state", "state_changed_at", "external_id", "organization_id",
                           "created_at", "updated_at")}),
        ("Traits", {"fields": ("traits_json",)}),
        ("Addresses", {"fields": ("verifiable_addresses_table", "recovery_addresses_table")}),
        ("Credentials", {"fields": ("credentials_table",)}),
        ("Metadata", {"fields": ("metadata_public_json", "metadata_admin_json")}),
        ("Sessions", {"fields": ("sessions_table",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Identity]:
        # The scoped manager: the request's network only, so another tenant's identities never list
        # and their change pages resolve to "does not exist".
        return Identity.objects.annotate(primary_identifier=Subquery(primary_identifiers()))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Identity], search_term: str
    ) -> tuple[QuerySet[Identity], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        identifiers = identifiers_starting_with(term).filter(credential__identity=OuterRef("pk"))
        # JSON as text is the one trait search every backend runs. SQLite and MariaDB keep the JSON
        # Django wrote, with non-ASCII escaped ("\u00eb"); PostgreSQL's jsonb prints the character.
        spellings = {term, json.dumps(term)[1:-1]}
        in_traits = Q()
        for spelling in spellings:
            in_traits |= Q(traits_text__icontains=spelling)
        queryset = queryset.alias(traits_text=Cast("traits", output_field=TextField()))
        # EXISTS rather than a join: an identity with several matching identifiers is listed once.
        return queryset.filter(Exists(identifiers) | in_traits), False

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
        changed = self.change_each(request, queryset, lambda identity: set_identity_state(identity, state),
                                   f"Set state to {state.value}.")
        self.message_user(request, f"{changed} identities are now {state.value}.", messages.SUCCESS)

    @admin.action(description="Revoke all sessions of selected identities", permissions=["change"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet[Identity]) -> None:
        changed = self.change_each(request, queryset, revoke_identity_sessions, "Revoked all sessions.")
        self.message_user(request, f"Revoked the sessions of {changed} identities.", messages.SUCCESS)

    @admin.action(description="Send recovery link (shown here, to hand over)", permissions=["change"])
    def send_recovery_link(self, request: HttpRequest, queryset: QuerySet[Identity]) -> None:
        """What `POST /admin/recovery/link` (or, while links are disabled, `/admin/recovery/code`) answers,
        shown to the operator, who passes it on: like the admin API, nothing is emailed."""
        if refusal := _recovery_refusal():
            self.message_user(request, refusal, messages.ERROR)
            return
        for identity in queryset:
            handover = _recovery_handover(request, identity)
            self.log_change(request, identity, "Created a recovery link.")
            label = identity.primary_identifier or identity.id  # type: ignore[attr-defined]
            self.message_user(request, f"Recovery for {label}: {handover}", messages.SUCCESS)

    @admin.display(description="Primary identifier", ordering="primary_identifier")
    def primary_identifier(self, identity: Identity) -> str | None:
        return identity.primary_identifier  # type: ignore[attr-defined]

    @admin.display(description="Traits")
    def traits_json(self, identity: Identity) -> str:
        return self.pretty_json(identity.traits)

    @admin.display(description="Public metadata")
    def metadata_public_json(self, identity: Identity) -> str:
        return self.pretty_json(identity.metadata_public)

    @admin.display(description="Admin metadata")
    def metadata_admin_json(self, identity: Identity) -> str:
        return self.pretty_json(identity.metadata_admin)

    @admin.display(description="Verifiable addresses")
    def verifiable_addresses_table(self, identity: Identity) -> str:
        rows = identity.verifiable_addresses.order_by("value").values_list("value", "via", "verified", "status")
        return self.table(("Value", "Via", "Verified", "Status"), (
            (value, via, display_for_value(verified, "", boolean=True), status)
            for value, via, verified, status in rows
        ))

    @admin.display(description="Recovery addresses")
    def recovery_addresses_table(self, identity: Identity) -> str:
        return self.table(("Value", "Via"), identity.recovery_addresses.order_by("value").values_list("value", "via"))

    @admin.display(description="Credentials")
    def credentials_table(self, identity: Identity) -> str:
        # values_list keeps `config` in the database: only types and identifiers are read.
        identifiers: defaultdict[str, list[str]] = defaultdict(list)
        for credential_type, identifier in CredentialIdentifier.objects.filter(
            credential__identity=identity
        ).order_by("identifier").values_list("type", "identifier"):
            identifiers[credential_type].append(identifier)
        types = identity.credentials.order_by("type").values_list("type", flat=True)
        return self.table(("Type", "Identifiers"), ((t, ", ".join(identifiers[t])) for t in types))

    @admin.display(description="Sessions")
    def sessions_table(self, identity: Identity) -> str:
        return identity_sessions_table(identity)


def _recovery_refusal() -> str | None:
    """Why no recovery link can be made. Unlike the admin API (which only needs the method) the console
    also wants the recovery flow on: a used or expired link, and any code, lead into that flow."""
    config = get_config()
    if not config.get("selfservice.flows.recovery.enabled"):
        return "Recovery is disabled (selfservice.flows.recovery.enabled): no recovery link can be made."
    if not any(config.get(f"selfservice.methods.{method}.enabled") for method in ("link", "code")):
        return "Both recovery methods (link and code) are disabled: no recovery link can be made."
    return None


def _recovery_handover(request: HttpRequest, identity: Identity) -> str:
    """A one-click link while the link method is enabled; otherwise the code method's flow link and code."""
    if get_config().get("selfservice.methods.link.enabled"):
        flow, token = create_recovery_link(request, identity.id, codes.lifespan("link"))
        return f"{recovery_url(flow, token)} (valid until {display_for_value(flow.expires_at, '')})"
    flow, code = create_recovery_code(request, identity.id, codes.lifespan("code"), FlowType.BROWSER)
    return (f"{with_query(RECOVERY.ui_url(), flow=flow.id)} with the code {code} "
            f"(valid until {display_for_value(flow.expires_at, '')})")


@admin.register(Network)
class NetworkAdmin(ReadOnlyAdmin):
    """Every network of the installation (see the module docstring for why this page is not scoped)."""

    list_display = ("id", "is_default", "created_at", "updated_at")
    ordering = ("created_at",)
    fields = ("id", "is_default", "created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Network | None = None) -> bool:
        return False  # deleting a network would cascade through every row of that tenant

    @admin.display(description="Default", boolean=True)
    def is_default(self, network: Network) -> bool:
        return network.id == default_nid()
