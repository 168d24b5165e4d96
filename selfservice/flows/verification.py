"""The verification flow (Kratos `selfservice/flow/verification`): prove control of an address.

The method is `selfservice.flows.verification.use` (`code`, the default, or `link`), fixed per flow
in `active`. The strategy sends and checks codes or links; this module owns what every method
shares: creating and restarting flows, the verified address and the "Continue" screen, and the
`verification` hook that runs after registration and settings.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.http import HttpRequest

from identities.models import Identity, VerifiableAddress, VerifiableAddressStatus
from kratos_project import clock
from selfservice import csrf
from selfservice.errors import FlowReplaced, ReturnToForbidden
from selfservice.flows.common import FlowKind, MethodFlow, create_flow
from selfservice.models import Flow, FlowState, FlowType, VerificationFlow
from selfservice.redirects import default_return_url, secure_return_to
from selfservice.text import ui_text
from selfservice.ui import Message, UIContainer, anchor_node, submit_node
from strategies.base import FlowStep, VerificationStrategy

VERIFICATION = FlowKind("verification", VerificationFlow, expired_message_id=4070005)


METHODS = MethodFlow(VERIFICATION, VerificationStrategy, lambda strategy, flow, ui: strategy.add_verification_nodes(
    flow, ui), no_strategy_message_id=4010006)
is_enabled, ensure_enabled, primary_strategy, build_ui = (
    METHODS.is_enabled, METHODS.ensure_enabled, METHODS.primary_strategy, METHODS.build_ui)
restart_with, restarted = METHODS.restart_with, METHODS.restarted


def start_verification(request: HttpRequest, flow_type: str) -> VerificationFlow:
    return METHODS.start(request, flow_type)  # type: ignore[return-value]


def submit_verification(request: HttpRequest, flow: VerificationFlow, payload: Mapping[str, Any]) -> FlowStep:
    """Raises FlowValidationError (messages for the flow), FlowReplaced, FlowExpired or another KratosError."""
    return METHODS.submit(request, flow, payload, lambda strategy: strategy.verify(request, flow, payload))


def replaced(request: HttpRequest, flow: VerificationFlow, message: Message, reason: str) -> FlowReplaced:
    """Restart the flow with `message`; the error to raise tells JSON clients which flow to use."""
    return FlowReplaced(restart_with(request, flow.type, flow.active, message).id, reason)


def complete(request: HttpRequest, flow: VerificationFlow, address: VerifiableAddress) -> FlowStep:
    """The address is verified; the flow now shows only a "Continue" link (`ui.method` GET) to where
    the user goes next: the flow's `return_to`, else the after-verification URL."""
    address.verified, address.status, address.verified_at = True, VerifiableAddressStatus.COMPLETED, clock.now()
    address.save(update_fields=["verified", "status", "verified_at", "updated_at"])
    continue_to = flow.return_to or default_return_url("verification")
    if flow.type == FlowType.BROWSER:
        flow.csrf_token = csrf.request_token(request)
    ui = UIContainer(action=continue_to, method="GET")
    ui.set_csrf(csrf.mask(flow.csrf_token) if flow.csrf_token else "")
    ui.messages.append(ui_text(1080002))
    ui.nodes.append(anchor_node("continue", continue_to, flow.active, ui_text(1070009)))
    flow.container = ui
    flow.move_to(FlowState.PASSED_CHALLENGE)
    flow.save()
    return FlowStep(flow)


# --- the `verification` hook -------------------------------------------------------------------


def verify_after(request: HttpRequest, source: Flow, identity: Identity, *, after: str) -> dict[str, Any] | None:
    """Kratos's `verification` hook, run after a registration or a settings change while verification
    is enabled: a verification flow (state `sent_email`) for the first address that needs it (after
    registration: not verified; after settings: still `pending`), and its code or link sent. Returns
    the `show_verification_ui` item the `show_verification_ui` hook may add to `continue_with`."""
    strategy = primary_strategy()
    for address in sorted(identity.verifiable_addresses.all(), key=lambda a: (a.created_at, a.value)):
        waiting = address.status == VerifiableAddressStatus.PENDING if after == "settings" else not address.verified
        if waiting and address.value:
            flow = _flow_for(request, source, strategy, after)
            ui = flow.container
            ui.nodes.append(submit_node(address.via, address.value, "code", ui_text(1070008)))  # resend
            flow.container = ui
            flow.save()
            strategy.send_verification(flow, address)
            item: dict[str, Any] = {"id": str(flow.id), "verifiable_address": address.value}
            if flow.type == FlowType.BROWSER:
                item["url"] = VERIFICATION.ui_url_for(flow.id)
            return {"action": "show_verification_ui", "flow": item}
    return None


def _flow_for(request: HttpRequest, source: Flow, strategy: VerificationStrategy, after: str) -> VerificationFlow:
    """Kratos's NewPostHookFlow: the source's type and transient payload; its request URL, with
    `after_verification_return_to` (a registration parameter) becoming `return_to`."""
    parts = urlsplit(source.request_url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if after_return := query.pop("after_verification_return_to", ""):
        query["return_to"] = after_return
    try:
        return_to = secure_return_to(query.get("return_to", ""))
    except ReturnToForbidden:
        return_to = ""  # Kratos then continues to the default URL
    token = ""
    if source.type == FlowType.BROWSER:
        # A registration signs a new principal in: its browser gets a new anti-CSRF token.
        token = csrf.regenerate(request) if after == "registration" else csrf.request_token(request)
    return create_flow(VERIFICATION, request, source.type, build_ui, active=strategy.id, state=FlowState.SENT_EMAIL,
                       request_url=parts._replace(query=urlencode(sorted(query.items()))).geturl(),
                       return_to=return_to, csrf_token=token, transient_payload=source.transient_payload)
