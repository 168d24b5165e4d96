"""The login flow (Kratos `selfservice/flow/login`): start, fetch and submit."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from kratos_project import clock
from kratos_project.errors import BadRequest
from selfservice.errors import IdentityDisabled, SessionAAL1Required, SessionAlreadyAvailable
from selfservice.flows.common import (
    FlowKind,
    create_flow,
    ensure_submittable,
    replace_expired,
    take_transient_payload,
)
from selfservice.hooks import after_hooks
from selfservice.models import Flow, FlowState, LoginFlow
from selfservice.text import ui_text
from selfservice.ui import UIContainer, sort_nodes
from sessions_app.models import Session
from sessions_app.services import issue_session, revoke_other_sessions, session_from_request
from strategies.base import Authenticated, FlowValidationError, LoginStrategy, NotResponsible
from strategies.registry import registry

LOGIN = FlowKind("login", LoginFlow, expired_message_id=4010001)
# Kratos's login node order (selfservice/flow/login/sort.go).
_GROUPS = ("oidc", "default", "webauthn", "passkey", "code", "password", "totp", "lookup_secret")
_KEYS = ("csrf_token", "identifier", "password")
_AAL_RANK = {"aal0": 0, "aal1": 1, "aal2": 2, "aal3": 3}


@dataclass(frozen=True)
class LoginSuccess:
    flow: LoginFlow
    session: Session
    token: str


def build_ui(flow: Flow, ui: UIContainer) -> None:
    for strategy in registry.for_flow(LoginStrategy):
        strategy.add_login_nodes(flow, ui)
    if getattr(flow, "refresh", False):
        ui.messages.append(ui_text(1010003))
    ui.nodes = sort_nodes(ui.nodes, _GROUPS, _KEYS)


def start_login(request: HttpRequest, flow_type: str) -> LoginFlow:
    """Kratos's NewLoginFlow rules: signing in again needs `refresh=true` or a higher `aal`."""
    session = session_from_request(request)
    refresh = request.GET.get("refresh") == "true"
    aal = request.GET.get("aal") or "aal1"
    if aal not in _AAL_RANK or aal == "aal0":
        raise BadRequest(f"Unable to parse AuthenticationMethod Assurance Level (AAL): {aal}")
    if session is None:
        if aal != "aal1":
            raise SessionAAL1Required()
        refresh = False
    elif not refresh and _AAL_RANK[aal] <= _AAL_RANK[session.aal]:
        raise SessionAlreadyAvailable()
    return create_flow(LOGIN, request, flow_type, build_ui, refresh=refresh, requested_aal=aal,
                       identity_id=session.identity_id if session and refresh else None)


def submit_login(request: HttpRequest, flow: LoginFlow, payload: Mapping[str, Any]) -> LoginSuccess:
    """Raises FlowExpired, FlowValidationError (messages for the flow) or another KratosError."""
    if flow.is_expired(clock.now()):
        raise replace_expired(LOGIN, flow, build_ui, refresh=flow.refresh, requested_aal=flow.requested_aal,
                              identity_id=flow.identity_id)
    if flow.state == FlowState.PASSED_CHALLENGE:
        raise FlowValidationError([(None, ui_text(4010007))])
    current = session_from_request(request)
    if current is not None and not flow.refresh and _AAL_RANK[flow.requested_aal] <= _AAL_RANK[current.aal]:
        raise BadRequest(SessionAlreadyAvailable().reason)
    take_transient_payload(flow, payload)
    authenticated = _authenticate(request, flow, payload)
    if not authenticated.identity.is_active:
        raise IdentityDisabled(authenticated.identity.id)
    with transaction.atomic():
        flow.active = authenticated.method
        flow.move_to(FlowState.PASSED_CHALLENGE)
        flow.save()
        session, token = issue_session(authenticated.identity, method=authenticated.method, aal=authenticated.aal,
                                       request=request)
        if "revoke_active_sessions" in after_hooks("login", authenticated.method):
            revoke_other_sessions(authenticated.identity, keep=session)
    return LoginSuccess(flow=flow, session=session, token=token)


def _authenticate(request: HttpRequest, flow: LoginFlow, payload: Mapping[str, Any]) -> Authenticated:
    ensure_submittable(request, flow, payload)
    for strategy in registry.for_flow(LoginStrategy):
        try:
            return strategy.login(flow, payload)
        except NotResponsible:
            continue
    raise FlowValidationError([(None, ui_text(4010002))])
