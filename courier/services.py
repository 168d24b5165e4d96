"""Courier use cases: queue a message (for the flows), read messages (for the admin API) and put
given-up messages back in the queue (for the operator console).

Flows call `enqueue_email` / `enqueue_sms` inside their request (and transaction): the message is
rendered and stored as `queued`, nothing is sent. `courier.dispatcher` sends it later.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Prefetch, Q

from courier import templates
from courier.models import Dispatch, Message, MessageStatus, MessageType
from courier.page_tokens import Position
from kratos_project import clock
from kratos_project.errors import ResourceNotFound

logger = logging.getLogger("kratos.courier")


def enqueue_email(*, to: str, template_type: str, data: dict[str, Any]) -> Message:
    """Render `template_type` for `to` and queue it in the bound network.

    `data` uses Kratos's template data names (`recovery_code`, `verification_url`, `identity`, …,
    see `courier.templates`); `to` is added to it. Raises ValueError for an unusable address and
    `templates.TemplateError` when a template cannot be rendered.
    """
    try:
        validate_email(to)
    except ValidationError as error:
        # Kratos refuses to queue what net/mail cannot parse (`courier/smtp.go` QueueEmail).
        raise ValueError("the recipient is not a valid email address") from error
    template_data = {**data, "to": to}
    rendered = templates.render_email(template_type, template_data)
    return _queue(MessageType.EMAIL, "email", to, template_type, template_data,
                  subject=rendered.subject, body=rendered.body, html_body=rendered.html_body)


def enqueue_sms(*, to: str, template_type: str, data: dict[str, Any]) -> Message:
    """Render the SMS text of `template_type` for the phone number `to` and queue it (channel `sms`)."""
    template_data = {**data, "to": to}
    if template_type == "recovery_code_valid":
        # Kratos's SMS recovery model names its code `verification_code` (`courier/template/sms/
        # recovery_code.go`), so HTTP channel bodies written for Kratos find it there.
        template_data.setdefault("verification_code", data.get("recovery_code"))
    body = templates.render_sms(template_type, template_data)
    return _queue(MessageType.SMS, "sms", to, template_type, template_data, subject="", body=body, html_body="")


def _queue(message_type: str, channel: str, to: str, template_type: str, template_data: dict[str, Any],
           **content: str) -> Message:
    message = Message.objects.create(type=message_type, channel=channel, recipient=to, template_type=template_type,
                                     template_data=template_data, **content)
    # The recipient, body and codes stay out of the log.
    logger.info("courier: queued %s message %s (%s)", message_type, message.id, template_type)
    return message


def list_messages(*, status: str | None, recipient: str, after: Position,
                  size: int) -> tuple[list[Message], Position | None]:
    """A page of the bound network's messages, newest first, after `after`; and where the next page starts."""
    queryset = Message.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if recipient:
        queryset = queryset.filter(recipient=recipient)
    # Kratos's keyset (created_at DESC, id ASC): strictly older, or as old with a greater id.
    queryset = queryset.filter(Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__gt=after.id))
    rows = list(queryset.order_by("-created_at", "id")[: size + 1])
    page = rows[:size]
    following = Position(page[-1].created_at, page[-1].id) if len(rows) > size else None
    return page, following


def get_message(message_id: UUID) -> Message:
    """One message of the bound network with its dispatches, newest first."""
    newest_first = Prefetch("dispatches", queryset=Dispatch.objects.order_by("-created_at", "-id"))
    message = Message.objects.prefetch_related(newest_first).filter(id=message_id).first()
    if message is None:
        raise ResourceNotFound()
    return message


# A worker holds a `processing` message and a `sent` one is delivered: neither is re-queued.
_REQUEUEABLE = (MessageStatus.ABANDONED, MessageStatus.QUEUED)


def requeue_messages(message_ids: Iterable[UUID]) -> int:
    """Queue the bound network's abandoned messages, and queued ones waiting out a retry backoff, for
    the worker's next pull, with a fresh retry budget; returns how many were re-queued.

    Kratos has no re-queue; its worker abandons a message claimed with `send_count` above
    `courier.message_retries`, so `send_count` starts again at 0 (or the message would be abandoned
    unsent at once). The dispatches keep the record of every earlier attempt.
    """
    now = clock.now()
    # One UPDATE guarded by the status: a message a worker claimed meanwhile is left to it.
    return Message.objects.filter(id__in=list(message_ids), status__in=_REQUEUEABLE).update(
        status=MessageStatus.QUEUED, send_count=0, next_attempt_at=now, updated_at=now)
