"""Admin recovery endpoints (Kratos `selfservice/strategy/code/strategy_recovery_admin.go`,
`selfservice/strategy/link/strategy_recovery.go`): a recovery code or link for an identity, which an
operator hands to its owner. Each answers 404 while its method is disabled (`link` is, by default).
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kratos_project.config import get_config, parse_duration
from kratos_project.errors import BadRequest
from kratos_project.jsontime import rfc3339
from selfservice import codes
from selfservice.errors import EndpointDisabled
from selfservice.flows.recovery import RECOVERY
from selfservice.models import FlowType
from selfservice.responses import with_query
from strategies.code.recovery import create_recovery_code
from strategies.link.recovery import create_recovery_link, recovery_url

_NIL = UUID(int=0)  # a missing identity_id decodes to Go's zero UUID, which no identity has


class RecoveryLinkIn(serializers.Serializer):
    identity_id = serializers.UUIDField(required=False, default=_NIL)
    expires_in = serializers.CharField(required=False, allow_blank=True, default="")


class RecoveryCodeIn(RecoveryLinkIn):
    flow_type = serializers.CharField(required=False, default=FlowType.BROWSER)


def _ensure_enabled(method: str) -> None:
    if not get_config().get(f"selfservice.methods.{method}.enabled", False):
        raise EndpointDisabled()


def _expires_in(raw: str, method: str) -> timedelta:
    if not raw:
        return codes.lifespan(method)
    try:
        return parse_duration(raw)
    except ValueError as error:
        raise BadRequest(f'Unable to parse "expires_in" whose format should match "[0-9]+(ns|us|ms|s|m|h)" but did '
                         f"not: {raw}") from error


class AdminRecoveryCodeView(APIView):
    def post(self, request: Request) -> Response:
        _ensure_enabled("code")
        body = RecoveryCodeIn(data=request.data)
        body.is_valid(raise_exception=True)
        expires_in = _expires_in(body.validated_data["expires_in"], "code")
        if expires_in <= timedelta(0):
            raise BadRequest(f'Value from "expires_in" must result to a future time: {go_duration(expires_in)}')
        flow_type = body.validated_data["flow_type"]
        if flow_type not in FlowType.values:
            raise BadRequest(f'Value from "flow_type" is not valid: "{flow_type}"')
        flow, code = create_recovery_code(request._request, body.validated_data["identity_id"], expires_in, flow_type)
        return Response({"recovery_link": with_query(RECOVERY.ui_url(), flow=flow.id), "recovery_code": code,
                         "expires_at": rfc3339(flow.expires_at)}, status=status.HTTP_201_CREATED)


class AdminRecoveryLinkView(APIView):
    def post(self, request: Request) -> Response:
        _ensure_enabled("link")
        body = RecoveryLinkIn(data=request.data)
        body.is_valid(raise_exception=True)
        raw = body.validated_data["expires_in"]
        if _expires_in(raw, "link") <= timedelta(0):
            raise BadRequest(f'Value from "expires_in" must be result to a future time: {raw}')
        flow, token = create_recovery_link(request._request, body.validated_data["identity_id"],
                                           _expires_in(raw, "link"))
        return Response({"recovery_link": recovery_url(flow, token), "expires_at": rfc3339(flow.expires_at)})


def go_duration(value: timedelta) -> str:
    """Go's Duration.String() ("-1h0m0s", "1m30s", "1.5s", "500ms"), which Kratos prints in errors."""
    micros = abs(value) // timedelta(microseconds=1)
    sign = "-" if value < timedelta(0) else ""
    if micros == 0:
        return "0s"
    if micros < 1000:
        return f"{sign}{micros}µs"
    if micros < 1_000_000:
        return f"{sign}{_decimal(micros, 1000)}ms"
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "")
    return f"{sign}{text}{_decimal(rest, 1_000_000)}s"


def _decimal(amount: int, unit: int) -> Any:
    text = format(Decimal(amount) / Decimal(unit), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
