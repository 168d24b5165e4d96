"""Recovery by link (Kratos `selfservice/strategy/link/strategy_recovery.go`).

`{"method": "link", "email": …}` emails `GET /self-service/recovery?flow=&token=` to a known
recovery address (nothing, or a notice, to an unknown one: the same answer either way). Opening
the link signs the browser in and continues to the settings UI. The admin API issues such links
for an identity (`POST /admin/recovery/link`).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest

from identities.models import AddressVia
from identities.services import get_identity
from kratos_project.config import get_config
from kratos_project.errors import BadRequest, ResourceNotFound
from selfservice import codes
from selfservice.flows import recovery
from selfservice.flows.common import create_flow, ensure_submittable
from selfservice.models import CodePurpose, FlowState, FlowType, RecoveryFlow
from selfservice.text import ui_text
from selfservice.ui import UIContainer
from strategies import sending
from strategies.base import Authenticated, FlowStep, NotResponsible
from strategies.code.recovery import mark_address_verified
from strategies.link.form import METHOD, add_email_form, lifespan_minutes, show_sent, token_of


def recovery_url(flow: RecoveryFlow, token: str) -> str:
    return f"{get_config().public.base_url}self-service/recovery?{urlencode({'flow': flow.id, 'token': token})}"


class LinkRecovery:
    def add_recovery_nodes(self, flow: RecoveryFlow, ui: UIContainer) -> None:
        add_email_form(ui)

    def recover(self, request: HttpRequest, flow: RecoveryFlow, payload: Mapping[str, Any]) -> FlowStep | Authenticated:
        if token := token_of(payload):
            return self._use_recovery_link(request, flow, token)
        recovery.ensure_signed_out(request)
        if payload.get("method") != METHOD:
            raise NotResponsible()
        if flow.state == FlowState.PASSED_CHALLENGE:
            return recovery.restarted(request, flow.type, METHOD, ui_text(4060001))
        email = sending.required_email(payload)
        ensure_submittable(request, flow, payload)
        if (address := sending.find_recovery_address(email)) is not None:
            token = codes.issue(CodePurpose.RECOVERY_LINK, flow.id, address.identity,
                                expires_in=codes.lifespan(METHOD), recovery_address=address)
            sending.send(AddressVia.EMAIL, address.value, "recovery_valid", sending.template_data(
                flow, address.identity, recovery_url=recovery_url(flow, token),
                expires_in_minutes=lifespan_minutes()))
        else:
            sending.notify_stranger("recovery", flow, email, "recovery_invalid")
        return show_sent(flow, email, 1060002)

    def _use_recovery_link(self, request: HttpRequest, flow: RecoveryFlow, token: str) -> FlowStep | Authenticated:
        # A link is opened in a browser: a restarted flow is a browser flow whatever the old one was.
        try:
            used = codes.use_token(CodePurpose.RECOVERY_LINK, flow.id, token)
        except (codes.CodeNotFound, codes.CodeAlreadyUsed):
            return recovery.restarted(request, FlowType.BROWSER, METHOD, ui_text(4060004))
        except codes.CodeExpired as expired:
            return recovery.restarted(request, FlowType.BROWSER, METHOD, expired.flow_expired_text(4060005))
        if used.recovery_address is not None:
            mark_address_verified(used.identity.verifiable_addresses.filter(value=used.recovery_address.value))
        return Authenticated(identity=used.identity, method=recovery.LINK_RECOVERY)


def create_recovery_link(request: HttpRequest, identity_id: Any, expires_in: timedelta) -> tuple[RecoveryFlow, str]:
    """`POST /admin/recovery/link`: a browser flow and a link token for the identity."""
    try:
        identity = get_identity(identity_id)
    except ResourceNotFound as missing:
        raise BadRequest("The requested identity id does not exist.") from missing
    with transaction.atomic():
        flow = create_flow(recovery.RECOVERY, request, FlowType.BROWSER, recovery.build_ui, lifespan=expires_in,
                           active=METHOD, csrf_token="")
        token = codes.issue(CodePurpose.RECOVERY_LINK, flow.id, identity, expires_in=expires_in, issued_by_admin=True)
    return flow, token
