"""Courier messages and their delivery attempts (Kratos `courier/message.go`, `message_dispatch.go`).

A message is rendered when it is queued and sent later by the dispatcher (`courier.dispatcher`),
never inside the HTTP request that queued it. Each delivery attempt leaves a `Dispatch` row.
"""
from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from identities.models import ADDRESS_MAX_LENGTH, Timestamped
from kratos_project import clock


class MessageType(models.TextChoices):
    EMAIL = "email"
    # Stored as Kratos stores it; the admin API writes "phone" (see `courier.api.views.message_json`).
    SMS = "sms"


class MessageStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    SENT = "sent"
    ABANDONED = "abandoned"


class DispatchStatus(models.TextChoices):
    FAILED = "failed"
    SUCCESS = "success"


class Message(Timestamped):
    type = models.CharField(max_length=8, choices=MessageType.choices)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    recipient = models.CharField(max_length=ADDRESS_MAX_LENGTH)
    subject = models.TextField(blank=True, default="")
    body = models.TextField()
    # Rendered with the plain body at enqueue time; sent as the HTML alternative, never in the API.
    html_body = models.TextField(blank=True, default="")
    template_type = models.CharField(max_length=32)
    # What the templates were rendered from; HTTP channels send it on (Kratos's `template_data`).
    template_data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)  # identities carry UUIDs, times
    channel = models.CharField(max_length=32)  # "email" or a `courier.channels[].id` ("sms")
    send_count = models.IntegerField(default=0)
    # When the message may next be claimed: the retry backoff while `queued`, the end of the
    # worker's lease while `processing` (past it, a crashed worker's message is queued again).
    next_attempt_at = models.DateTimeField(default=clock.now)

    class Meta(Timestamped.Meta):
        indexes = [
            # The dispatcher's claim: WHERE status = 'queued' AND next_attempt_at <= now ORDER BY
            # created_at, across every network (one worker serves the installation).
            models.Index(fields=["status", "created_at"], name="courier_msg_status_created_idx"),
            # The admin list, newest first, optionally filtered (Kratos's courier_list_index).
            models.Index(fields=["nid", "-created_at", "id"], name="courier_msg_nid_created_idx"),
            models.Index(fields=["nid", "status", "-created_at"], name="courier_msg_nid_status_idx"),
            models.Index(fields=["nid", "recipient", "-created_at"], name="courier_msg_nid_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_type} to {self.recipient} ({self.status})"


class Dispatch(Timestamped):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="dispatches", db_index=False)
    status = models.CharField(max_length=8, choices=DispatchStatus.choices)
    # Kratos stores the failure as a herodot error object; a success stores JSON null.
    error = models.JSONField(null=True, blank=True)

    class Meta(Timestamped.Meta):
        indexes = [models.Index(fields=["message", "-created_at"], name="courier_dispatch_message_idx")]

    def __str__(self) -> str:
        return f"{self.status} dispatch of {self.message_id}"
