"""Courier messages in the operator console: what was queued, whether it went out, and why not.

As the admin courier API, the console shows a message's subject and body only in dev mode (codes
and links are in them) and never its template data or HTML body. The one change it makes, putting
given-up messages back in the queue, is `courier.services.requeue_messages`.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from courier.api.views import REDACTED
from courier.models import Dispatch, Message
from courier.services import requeue_messages
from kratos_project.config import get_config
from kratos_project.console import ReadOnlyAdmin


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "type", "recipient", "template_type", "status", "send_count")
    list_filter = ("status", "type", "template_type")
    search_fields = ("recipient",)
    search_help_text = "Any part of the recipient's address."
    ordering = ("-created_at", "id")
    actions = ("requeue",)
    fieldsets = (
        (None, {"fields": ("id", "type", "channel", "recipient", "template_type", "status", "send_count",
                           "next_attempt_at", "created_at", "updated_at")}),
        ("Content", {"fields": ("subject_shown", "body_shown")}),
        ("Dispatches", {"fields": ("dispatches_table",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        # The scoped manager: the dispatcher serves every network, the console only the request's.
        return Message.objects.all()

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False  # the queue's history, as the admin API (which deletes nothing) keeps it

    @admin.action(description="Re-queue selected abandoned or waiting messages", permissions=["change"])
    def requeue(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        selected = list(queryset.values_list("id", flat=True))
        requeued = requeue_messages(selected)
        self.message_user(request, f"{requeued} messages queued for the courier's next pull.", messages.SUCCESS)
        if skipped := len(selected) - requeued:
            self.message_user(request, f"{skipped} messages were left alone: sent, or being sent.", messages.WARNING)

    @admin.display(description="Subject")
    def subject_shown(self, message: Message) -> str:
        return message.subject if get_config().dev else REDACTED

    @admin.display(description="Body")
    def body_shown(self, message: Message) -> str:
        return format_html("<pre>{}</pre>", message.body if get_config().dev else REDACTED)

    @admin.display(description="Dispatches")
    def dispatches_table(self, message: Message) -> str:
        return self.table(("Attempted at", "Status", "Error"), (
            (display_for_value(dispatch.created_at, ""), dispatch.status, self._error(dispatch))
            for dispatch in Dispatch.objects.filter(message=message).order_by("-created_at", "-id")
        ))

    def _error(self, dispatch: Dispatch) -> str:
        return "" if dispatch.error is None else self.pretty_json(dispatch.error)
