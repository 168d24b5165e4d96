"""Sessions in the operator console: look them up and revoke them.

Revoking goes through `sessions_app.services`, as `DELETE /admin/sessions/{id}` does: the row stays,
inactive, so whoami, the session APIs and the list here all read it as revoked. Rows are never
added, edited or deleted from the console, and token hashes are never shown.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from identities.models import Identity
from identities.services import identifiers_starting_with, primary_identifiers
from kratos_project import clock
from kratos_project.console import ReadOnlyAdmin, html_table
from sessions_app.models import Session
from sessions_app.services import identity_sessions, revoke_session, sessions_matching

# The identity page lists this many of its newest sessions and links to the rest.
IDENTITY_PAGE_SESSIONS = 20
USER_AGENT_SHOWN = 60  # characters of a user agent in the list; the detail page shows all of it


class ActiveFilter(admin.SimpleListFilter):
    """Kratos's `active` filter (`GET /admin/sessions?active=`): the row's flag and its expiry."""

    title = "active"
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("true", "Yes"), ("false", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Session]) -> QuerySet[Session]:
        if self.value() not in ("true", "false"):
            return queryset
        # `&` adds the service's conditions to the console's query (annotations and all).
        return queryset & sessions_matching(active=self.value() == "true")


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "identity_link", "is_active", "aal", "authenticated_at", "expires_at", "devices_summary")
    list_filter = (ActiveFilter, "aal")
    # Only shows the search box: `get_search_results` replaces Django's lookup.
    search_fields = ("identity__id",)
    search_help_text = "An identity id, a session id, or an identifier (exact or prefix)."
    ordering = ("-created_at", "id")
    actions = ("revoke",)
    fieldsets = (
        (None, {"fields": ("id", "identity_link", "is_active", "aal", "authenticated_at", "issued_at", "expires_at",
                           "created_at", "updated_at")}),
        ("Authentication methods", {"fields": ("authentication_methods_table",)}),
        ("Devices", {"fields": ("devices_table",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        # The scoped manager: another network's sessions never list, and their pages do not resolve.
        return Session.objects.annotate(primary_identifier=Subquery(primary_identifiers("identity_id")))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Session], search_term: str
    ) -> tuple[QuerySet[Session], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            given_id = uuid.UUID(term)
        except ValueError:
            identifiers = identifiers_starting_with(term).filter(credential__identity=OuterRef("identity_id"))
            return queryset.filter(Exists(identifiers)), False
        return queryset.filter(Q(identity_id=given_id) | Q(id=given_id)), False

    def has_delete_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False  # revoked, not deleted: `manage.py cleanup` removes expired rows

    @admin.action(description="Revoke selected sessions", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        revoked = self.change_each(request, queryset, revoke_session, "Revoked.")
        self.message_user(request, f"{revoked} sessions revoked.", messages.SUCCESS)

    @admin.display(description="Identity", ordering="primary_identifier")
    def identity_link(self, session: Session) -> str:
        label = getattr(session, "primary_identifier", None) or session.identity_id
        return format_html('<a href="{}">{}</a>', identity_url(session.identity_id), label)

    @admin.display(description="Active", boolean=True)
    def is_active(self, session: Session) -> bool:
        return session_is_active(session)

    @admin.display(description="Devices")
    def devices_summary(self, session: Session) -> str:
        return devices_summary(session)

    @admin.display(description="Authentication methods")
    def authentication_methods_table(self, session: Session) -> str:
        return self.table(("Method", "AAL", "Completed at"), (
            (method.get("method"), method.get("aal"), method.get("completed_at"))
            for method in session.authentication_methods
        ))

    @admin.display(description="Devices")
    def devices_table(self, session: Session) -> str:
        return self.table(("IP address", "Location", "User agent"), (
            (device.get("ip_address"), device.get("location"), device.get("user_agent"))
            for device in session.devices
        ))


def session_is_active(session: Session) -> bool:
    # As the admin list and its filter read it: the identity's state is not consulted.
    return session.is_active(clock.now(), check_identity=False)


def devices_summary(session: Session) -> str:
    """The newest device (IP, location, shortened user agent) and how many others there are."""
    if not session.devices:
        return ""
    newest: dict[str, Any] = session.devices[-1]
    user_agent = Truncator(newest.get("user_agent") or "").chars(USER_AGENT_SHOWN)
    summary = " · ".join(part for part in (newest.get("ip_address"), newest.get("location"), user_agent) if part)
    others = len(session.devices) - 1
    return f"{summary} (+{others} more)" if others else summary


def identity_url(identity_id: uuid.UUID) -> str:
    return reverse("admin:identities_identity_change", args=[identity_id])


def identity_sessions_table(identity: Identity) -> SafeString:
    """The identity page's Sessions section: its newest sessions, and a link to all of them in the
    session list, where they can be revoked one by one."""
    sessions = identity_sessions(identity.id)[:IDENTITY_PAGE_SESSIONS]
    table = html_table(("Session", "Active", "AAL", "Authenticated at", "Expires at", "Devices"), (
        (format_html('<a href="{}">{}</a>', reverse("admin:sessions_app_session_change", args=[session.id]), session.id),
         display_for_value(session_is_active(session), "", boolean=True), session.aal,
         display_for_value(session.authenticated_at, ""), display_for_value(session.expires_at, ""),
         devices_summary(session))
        for session in sessions
    ))
    if table is None:
        return format_html("<p>{}</p>", "No sessions.")
    everything = f"{reverse('admin:sessions_app_session_changelist')}?{urlencode({'q': identity.id})}"
    return format_html('{}<p><a href="{}">All sessions of this identity</a></p>', table, everything)
