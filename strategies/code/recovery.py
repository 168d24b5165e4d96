"""Recovery by code (Kratos `selfservice/strategy/code/strategy_recovery.go`, `strategy_recovery_admin.go`).

`{"method": "code", "email": …}` sends a code to a known recovery address and, to an unknown one,
nothing (or a notice with `notify_unknown_recipients`): the flow answers the same either way.
Then `{"method": "code", "code": …}` (any submission without `email`) uses it; a wrong, expired
or deleted code is message 4060006 on the same flow, a used code or too many attempts restart it.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from identities.models import VerifiableAddressStatus
from identities.services import get_identity
from kratos_project import clock
from kratos_project.errors import BadRequest, ResourceNotFound
from selfservice import codes, csrf
from selfservice.flows import recovery
from selfservice.flows.common import create_flow, ensure_submittable
from selfservice.models import CodePurpose, Flow, FlowState, RecoveryFlow
from selfservice.text import ui_text
from selfservice.ui import Node, UIContainer, input_node, submit_node
from strategies import sending
from strategies.base import Authenticated, FlowStep, NotResponsible

METHOD = "code"


def _code_node() -> Node:
    return input_node("code", METHOD, required=True, pattern="[0-9]+", max_length=codes.CODE_LENGTH,
                      label=ui_text(1070010))


def _continue_node() -> Node:
    return submit_node("method", METHOD, METHOD, ui_text(1070009))


class CodeRecovery:
    def add_recovery_nodes(self, flow: RecoveryFlow, ui: UIContainer) -> None:
        ui.upsert(input_node("email", METHOD, type="email", required=True, label=ui_text(1070007)))
        ui.nodes.append(_continue_node())

    def recover(self, request: HttpRequest, flow: RecoveryFlow, payload: Mapping[str, Any]) -> FlowStep | Authenticated:
        if flow.active != METHOD:
            raise NotResponsible()
        if request.method != "POST":
            raise BadRequest(f"Unable to decode body because HTTP Request Method was {request.method} but only "
                             "[POST] are supported.")
        if not flow.skip_csrf_check:
            ensure_submittable(request, flow, payload)
        email = sending.submitted_email(payload)
        if flow.state != FlowState.CHOOSE_METHOD and not email:
            # Kratos reads the step from the fields: without an address, it is the code.
            code = payload.get("code")
            return self._use_recovery_code(request, flow, code if isinstance(code, str) else "")
        recovery.ensure_signed_out(request)
        if payload.get("method") != METHOD:
            raise NotResponsible()
        if flow.state == FlowState.PASSED_CHALLENGE:
            return recovery.restarted(request, flow.type, METHOD, ui_text(4060001))
        sending.require_email(email)
        self._send_recovery_code_to(flow, email)
        self._show_recovery_code_form(flow, email)
        return FlowStep(flow)

    def _send_recovery_code_to(self, flow: RecoveryFlow, email: str) -> None:
        codes.delete_flow_codes(CodePurpose.RECOVERY_CODE, flow.id)
        if (address := sending.find_recovery_address(email)) is not None:
            lifespan = codes.lifespan(METHOD)
            code = codes.issue(CodePurpose.RECOVERY_CODE, flow.id, address.identity, expires_in=lifespan,
                               recovery_address=address)
            sending.send(address.via, address.value, "recovery_code_valid", sending.template_data(
                flow, address.identity, recovery_code=code, expires_in_minutes=sending.minutes(lifespan)))
        else:
            sending.notify_stranger("recovery", flow, email, "recovery_code_invalid")

    def _show_recovery_code_form(self, flow: RecoveryFlow, email: str) -> None:
        ui = flow.container
        ui.nodes = []
        ui.set_csrf(csrf.mask(flow.csrf_token) if flow.csrf_token else "")
        ui.nodes += [_code_node(), input_node("method", METHOD, type="hidden", value=METHOD), _continue_node(),
                     submit_node("email", email, METHOD, ui_text(1070008))]  # resend
        ui.messages = [ui_text(1060003)]
        flow.container = ui
        flow.move_to(FlowState.SENT_EMAIL)
        flow.save()

    def _use_recovery_code(self, request: HttpRequest, flow: RecoveryFlow, submitted: str) -> FlowStep | Authenticated:
        try:
            used = codes.use_code(CodePurpose.RECOVERY_CODE, flow, submitted)
        except (codes.CodeNotFound, codes.CodeExpired):
            # Unlike verification, an expired recovery code reads as a wrong one (Kratos RecoveryCode.Validate).
            ui = flow.container
            ui.messages = [ui_text(4060006)]
            flow.container = ui
            flow.save()
            return FlowStep(flow)
        except (codes.CodeAlreadyUsed, codes.CodeSubmittedTooOften) as refused:
            return recovery.restarted(request, flow.type, METHOD, ui_text(4000001, reason=refused.reason))
        if used.recovery_address is not None:
            # Receiving the code proved control of the address (an admin code proves nothing).
            mark_address_verified(used.identity.verifiable_addresses.filter(value=used.recovery_address.value))
        return Authenticated(identity=used.identity, method=recovery.CODE_RECOVERY)


def mark_address_verified(addresses: Any) -> None:
    addresses.update(verified=True, status=VerifiableAddressStatus.COMPLETED, verified_at=clock.now(),
                     updated_at=clock.now())


def create_recovery_code(request: HttpRequest, identity_id: Any, expires_in: timedelta,
                         flow_type: str) -> tuple[RecoveryFlow, str]:
    """`POST /admin/recovery/code`: a flow that waits for a code, and the code. The flow is opened from
    a link an admin passes on, in a browser it was not made for, so its anti-CSRF check is skipped."""
    try:
        identity = get_identity(identity_id)
    except ResourceNotFound as missing:
        raise ResourceNotFound("could not find identity") from missing

    def build(flow: Flow, ui: UIContainer) -> None:
        ui.nodes = [_code_node(), _continue_node()]

    with transaction.atomic():
        flow = create_flow(recovery.RECOVERY, request, flow_type, build, lifespan=expires_in, active=METHOD,
                           state=FlowState.SENT_EMAIL, skip_csrf_check=True, csrf_token="")
        code = codes.issue(CodePurpose.RECOVERY_CODE, flow.id, identity, expires_in=expires_in, issued_by_admin=True)
    return flow, code
