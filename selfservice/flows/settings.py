"""The settings flow (Kratos `selfservice/flow/settings`): a signed-in identity changes its traits
and credentials. Every step needs the session of the flow's own identity; changing credentials or
identifiers needs a recent sign-in (`privileged_session_max_age`)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest

from kratos_project import clock
from kratos_project.config import get_config, parse_duration
from selfservice import csrf
from selfservice.errors import IdentityMismatch, SessionInactive, SessionRefreshRequired
from selfservice.flows import verification
from selfservice.flows.common import (
    FlowKind,
    create_flow,
    ensure_submittable,
    replace_expired,
    take_transient_payload,
)
from selfservice.models import Flow, FlowState, SettingsFlow
from selfservice.traits import flow_schema
from selfservice.text import ui_text
from selfservice.ui import UIContainer, sort_nodes, trait_nodes
from sessions_app.models import Session
from sessions_app.services import session_from_request
from strategies.base import FlowValidationError, NotResponsible, SettingsStrategy
from strategies.registry import registry

SETTINGS = FlowKind("settings", SettingsFlow, expired_message_id=4050001)
# Kratos's settings node order (selfservice/flow/settings/sort.go).
_GROUPS = ("default", "profile", "password", "oidc", "lookup_secret", "webauthn", "passkey", "totp")


def build_ui(flow: Flow, ui: UIContainer) -> None:
    for strategy in registry.for_flow(SettingsStrategy):
        strategy.add_settings_nodes(flow, ui)
    traits = [n["attributes"]["name"] for n in trait_nodes(flow_schema(flow).document)]
    ui.nodes = sort_nodes(ui.nodes, _GROUPS, ("csrf_token", *traits))


def require_session(request: HttpRequest) -> Session:
    session = session_from_request(request)
    if session is None:
        raise SessionInactive()
    return session


def start_settings(request: HttpRequest, flow_type: str) -> SettingsFlow:
    session = require_session(request)
    return create_flow(SETTINGS, request, flow_type, build_ui, identity=session.identity,
                       identity_schema=session.identity.schema_id, state=FlowState.SHOW_FORM)


def ensure_owner(flow: SettingsFlow, session: Session) -> None:
    if flow.identity_id != session.identity_id:
        raise IdentityMismatch()


def privileged_session_max_age() -> timedelta:
    return parse_duration(str(get_config().get("selfservice.flows.settings.privileged_session_max_age") or "1h"))


def ensure_privileged(flow: SettingsFlow, session: Session) -> None:
    """Credentials and identifiers change only within `privileged_session_max_age` of signing in."""
    if clock.now() - session.authenticated_at <= privileged_session_max_age():
        return
    settings_url = f"{SETTINGS.ui_url()}?{urlencode({'flow': flow.id})}"
    login = f"{get_config().public.base_url}self-service/login/browser?{urlencode({'refresh': 'true', 'return_to': settings_url})}"
    raise SessionRefreshRequired(login)


def submit_settings(request: HttpRequest, flow: SettingsFlow, payload: Mapping[str, Any], session: Session) -> SettingsFlow:
    """Raises FlowExpired, FlowValidationError, SessionRefreshRequired or another KratosError."""
    ensure_owner(flow, session)
    if flow.is_expired(clock.now()):
        raise replace_expired(SETTINGS, flow, build_ui, identity=flow.identity, state=FlowState.SHOW_FORM)
    ensure_submittable(request, flow, payload)
    take_transient_payload(flow, payload)
    with transaction.atomic():
        method = _update(flow, payload, session)
        flow.identity.refresh_from_db()
        if verification.is_enabled():
            # Kratos inserts the `verification` hook: a new address (still `pending`) is sent a code.
            verification.verify_after(request, flow, flow.identity, after="settings")
        _show_saved(flow, method)
    return flow


def _update(flow: SettingsFlow, payload: Mapping[str, Any], session: Session) -> str:
    for strategy in registry.for_flow(SettingsStrategy):
        try:
            strategy.update_settings(flow, payload, session)
        except NotResponsible:
            continue
        return strategy.id
    raise FlowValidationError([(None, ui_text(4010004))])


def _show_saved(flow: SettingsFlow, method: str) -> None:
    """Kratos rebuilds the form from the updated identity and says the changes were saved."""
    ui = UIContainer(action=flow.container.action)
    ui.set_csrf(csrf.mask(flow.csrf_token) if flow.csrf_token else "")
    build_ui(flow, ui)
    ui.messages.append(ui_text(1050001))
    flow.container = ui
    flow.active = method
    flow.move_to(FlowState.SUCCESS)
    flow.save()


def settings_return_url(flow: SettingsFlow) -> str:
    """Where an HTML browser goes after saving: `return_to`, the configured after-settings URL, or
    back to the settings UI showing this flow (Kratos's default)."""
    config = get_config()
    for key in (f"selfservice.flows.settings.after.{flow.active}.default_browser_return_url",
                "selfservice.flows.settings.after.default_browser_return_url"):
        if value := config.get(key):
            return flow.return_to or str(value)
    return flow.return_to or f"{SETTINGS.ui_url()}?{urlencode({'flow': flow.id})}"
