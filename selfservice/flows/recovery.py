"""The recovery flow (Kratos `selfservice/flow/recovery`): regain access through a recovery address.

The method is `selfservice.flows.recovery.use` (`code`, the default, or `link`), fixed per flow in
`active`. Whether or not the address belongs to anyone, the answer is the same (no account
enumeration). A valid code or link signs the identity in with a privileged session and hands over
to a new settings flow, where the user sets a new password.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from identities.models import Identity
from kratos_project import clock
from kratos_project.config import get_config
from selfservice import csrf
from selfservice.errors import IdentityDisabled, RecoverySessionAvailable
from selfservice.flows import settings
from selfservice.flows.common import FlowKind, MethodFlow, create_flow
from selfservice.hooks import after_hooks
from selfservice.models import Flow, FlowState, FlowType, RecoveryFlow, SettingsFlow
from selfservice.text import ui_text
from selfservice.ui import UIContainer
from sessions_app.models import Session
from sessions_app.services import issue_session, revoke_other_sessions, session_from_request
from strategies.base import Authenticated, FlowStep, RecoveryStrategy

RECOVERY = FlowKind("recovery", RecoveryFlow, expired_message_id=4060005)
# The session methods a recovery signs in with (Kratos's CredentialsTypeRecoveryCode / …Link).
CODE_RECOVERY, LINK_RECOVERY = "code_recovery", "link_recovery"


@dataclass(frozen=True)
class RecoverySuccess:
    flow: RecoveryFlow
    method: str  # CODE_RECOVERY or LINK_RECOVERY
    session: Session
    token: str
    settings_flow: SettingsFlow


METHODS = MethodFlow(RECOVERY, RecoveryStrategy, lambda strategy, flow, ui: strategy.add_recovery_nodes(flow, ui),
                     no_strategy_message_id=4010005)
ensure_enabled, primary_strategy, build_ui, restarted = (
    METHODS.ensure_enabled, METHODS.primary_strategy, METHODS.build_ui, METHODS.restarted)


def ensure_signed_out(request: HttpRequest) -> None:
    if session_from_request(request) is not None:
        raise RecoverySessionAvailable()


def start_recovery(request: HttpRequest, flow_type: str) -> RecoveryFlow:
    ensure_enabled()  # first: a disabled flow is refused, signed in or not
    ensure_signed_out(request)
    return METHODS.start(request, flow_type)  # type: ignore[return-value]


def submit_recovery(request: HttpRequest, flow: RecoveryFlow, payload: Mapping[str, Any]) -> FlowStep | RecoverySuccess:
    """Raises FlowValidationError (messages for the flow), RecoverySessionAvailable or another KratosError."""
    outcome = METHODS.submit(request, flow, payload, lambda strategy: strategy.recover(request, flow, payload))
    if isinstance(outcome, Authenticated):
        return complete_recovery(request, flow, outcome)
    return outcome


# --- success -----------------------------------------------------------------------------------


def complete_recovery(request: HttpRequest, flow: RecoveryFlow, recovered: Authenticated) -> RecoverySuccess:
    """Kratos's recoveryIssueSession: a privileged session (just authenticated, aal1) and a settings
    flow saying how long it stays privileged. A link recovery always ends in a browser."""
    identity = recovered.identity
    if not identity.is_active:
        raise IdentityDisabled(identity.id)
    in_browser = flow.type == FlowType.BROWSER or recovered.method == LINK_RECOVERY
    with transaction.atomic():
        ui = flow.container
        ui.messages = []
        if in_browser:
            flow.csrf_token = csrf.regenerate(request)  # a new principal
            ui.set_csrf(csrf.mask(flow.csrf_token))
        flow.container = ui
        flow.recovered_identity = identity
        flow.move_to(FlowState.PASSED_CHALLENGE)
        flow.save()
        session, token = issue_session(identity, method=recovered.method, request=request)
        if "revoke_active_sessions" in after_hooks("recovery", recovered.method):
            revoke_other_sessions(identity, keep=session)
        settings_flow = _settings_flow(request, flow, identity, FlowType.BROWSER if in_browser else flow.type)
    return RecoverySuccess(flow=flow, method=recovered.method, session=session, token=token,
                           settings_flow=settings_flow)


def _settings_flow(request: HttpRequest, flow: RecoveryFlow, identity: Identity, flow_type: str) -> SettingsFlow:
    privileged_until = clock.now() + settings.privileged_session_max_age()

    def build(new: Flow, ui: UIContainer) -> None:
        settings.build_ui(new, ui)
        ui.messages.append(ui_text(1060001, privilegedSessionExpiresAt=privileged_until,
                                   privileged_session_expires_at=privileged_until,
                                   privileged_session_expires_at_unix=int(privileged_until.timestamp())))

    # The recovery's return_to (or the after-recovery URL) is where the settings flow returns to.
    return_to = flow.return_to or str(get_config().get("selfservice.flows.recovery.after.default_browser_return_url")
                                      or "")
    return create_flow(settings.SETTINGS, request, flow_type, build, identity=identity,
                       identity_schema=identity.schema_id, state=FlowState.SHOW_FORM, return_to=return_to)
