"""Admin courier API (Kratos `courier/handler.go`), thin: parse, call one service, render.

`GET /admin/courier/messages` (filters `status`, `recipient`; sealed keyset pages, §6.3) and
`GET /admin/courier/messages/{id}` (with its dispatches). Outside dev mode `subject` and `body`
are redacted, as Kratos does unless `--dev`.
"""
from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from courier import page_tokens, services
from courier.models import Dispatch, Message, MessageStatus, MessageType
from kratos_project.config import get_config
from kratos_project.errors import BadRequest
from kratos_project.jsontime import rfc3339
from kratos_project.pagination import keyset_link_header
from kratos_project.uuids import parse_path_uuid

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 500
REDACTED = "<redacted-unless-dev-mode>"
# Kratos writes "sms", but the OpenAPI enum (`courierMessageType`) and so every generated SDK
# accept only "email" and "phone": reading an SMS message through ory_kratos_client would fail.
# We keep inside the spec enum (reference §13.15); `channel` still says "sms".
_WIRE_TYPES = {MessageType.EMAIL: "email", MessageType.SMS: "phone"}


def message_json(message: Message, *, with_dispatches: bool) -> dict[str, Any]:
    redact = not get_config().dev
    body: dict[str, Any] = {
        "id": str(message.id),
        "status": message.status,
        "type": _WIRE_TYPES[message.type],
        "recipient": message.recipient,
        "body": REDACTED if redact else message.body,
        "subject": REDACTED if redact else message.subject,
        "template_type": message.template_type,
        "channel": message.channel,
        "send_count": message.send_count,
    }
    dispatches = list(message.dispatches.all()) if with_dispatches else []
    if dispatches:  # Kratos omits an empty list (`omitempty`)
        body["dispatches"] = [_dispatch_json(d) for d in dispatches]
    body["created_at"] = rfc3339(message.created_at)
    body["updated_at"] = rfc3339(message.updated_at)
    return body


def _dispatch_json(dispatch: Dispatch) -> dict[str, Any]:
    return {
        "id": str(dispatch.id),
        "message_id": str(dispatch.message_id),
        "status": dispatch.status,
        "error": dispatch.error,
        "created_at": rfc3339(dispatch.created_at),
        "updated_at": rfc3339(dispatch.updated_at),
    }


def _first(request: Request, name: str) -> str:
    """Go's `url.Values.Get`: the first value (Django's QueryDict.get gives the last)."""
    return next(iter(request.query_params.getlist(name)), "")


def _status_filter(request: Request) -> str | None:
    if "status" not in request.query_params:
        return None
    status = _first(request, "status")
    if status not in MessageStatus.values:
        raise BadRequest("Message status is not valid")
    return status


def _page_size(request: Request) -> int:
    raw = next((value for value in request.query_params.getlist("page_size") if value), "")
    if not raw:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as error:
        raise BadRequest(message=f'strconv.Atoi: parsing "{raw}": invalid syntax') from error
    return DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)


def _position(request: Request) -> page_tokens.Position:
    token = next((value for value in request.query_params.getlist("page_token") if value), "")
    return page_tokens.open_token(token) if token else page_tokens.FIRST


class CourierMessageViewSet(ViewSet):
    def list(self, request: Request) -> Response:
        status = _status_filter(request)
        position, size = _position(request), _page_size(request)
        messages, following = services.list_messages(
            status=status, recipient=_first(request, "recipient"), after=position, size=size)
        link = keyset_link_header(request, size=size, first_token=page_tokens.seal(page_tokens.FIRST),
                                  next_token=page_tokens.seal(following) if following else None)
        return Response([message_json(m, with_dispatches=False) for m in messages], headers={"Link": link})

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(message_json(services.get_message(parse_path_uuid(pk)), with_dispatches=True))
