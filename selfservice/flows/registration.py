"""The registration flow (Kratos `selfservice/flow/registration`): start, fetch and submit.

Both of Kratos's styles: `profile_first` (the default: traits first, then a credential) and
`unified` (one form; also what the deprecated `enable_legacy_one_step` asks for).
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
from kratos_project.errors import BadRequest
from selfservice import csrf
from selfservice.errors import RegistrationDisabled, SessionAlreadyAvailable
from selfservice.flows import verification
from selfservice.flows.common import (
    FlowKind,
    create_flow,
    ensure_submittable,
    replace_expired,
    take_transient_payload,
)
from selfservice.hooks import after_hooks
from selfservice.models import Flow, FlowState, RegistrationFlow
from selfservice.traits import flow_schema, show_traits
from selfservice.text import ui_text
from selfservice.ui import UIContainer, sort_nodes, trait_nodes
from sessions_app.models import Session
from sessions_app.services import issue_session, session_from_request
from strategies.base import FlowContinues, FlowValidationError, NotResponsible, RegistrationStrategy
from strategies.registry import registry

REGISTRATION = FlowKind("registration", RegistrationFlow, expired_message_id=4040001)
# Kratos's registration node order (selfservice/flow/registration/sort.go).
_GROUPS = ("oidc", "saml", "default", "webauthn", "passkey", "code", "password", "captcha", "profile")


@dataclass(frozen=True)
class RegistrationSuccess:
    flow: RegistrationFlow
    identity: Identity
    session: Session | None
    token: str | None
    continue_with: tuple[dict[str, Any], ...] = ()  # `show_verification_ui`, when that hook is configured


def is_unified() -> bool:
    config = get_config()
    return config.get("selfservice.flows.registration.style") == "unified" or bool(
        config.get("selfservice.flows.registration.enable_legacy_one_step"))


def build_ui(flow: Flow, ui: UIContainer, screen: str | None = None) -> None:
    screen = screen or ("unified" if is_unified() else "profile")
    for strategy in registry.for_flow(RegistrationStrategy):
        strategy.add_registration_nodes(flow, ui, screen)
    traits = [n["attributes"]["name"] for n in trait_nodes(flow_schema(flow).document)]
    ui.nodes = sort_nodes(ui.nodes, _GROUPS, ("csrf_token", *traits[:1], "password", *traits[1:]))


def _ensure_enabled() -> None:
    if not get_config().get("selfservice.flows.registration.enabled", True):
        raise RegistrationDisabled()


def start_registration(request: HttpRequest, flow_type: str) -> RegistrationFlow:
    _ensure_enabled()
    if session_from_request(request) is not None:
        raise SessionAlreadyAvailable()
    schema_id = request.GET.get("identity_schema", "")
    if schema_id:
        ref = get_config().schema(schema_id)
        if ref is None or not (ref.selfservice_selectable or ref.id == get_config().default_schema_id):
            raise BadRequest(f"The identity schema {schema_id!r} can not be used in self-service flows.")
    return create_flow(REGISTRATION, request, flow_type, build_ui, identity_schema=schema_id)


def submit_registration(request: HttpRequest, flow: RegistrationFlow, payload: Mapping[str, Any]) -> RegistrationSuccess:
    """Raises FlowExpired, FlowContinues / FlowValidationError (the flow re-renders) or a KratosError."""
    if flow.is_expired(clock.now()):
        raise replace_expired(REGISTRATION, flow, build_ui)
    _ensure_enabled()
    if flow.state == FlowState.PASSED_CHALLENGE:
        raise FlowValidationError([(None, ui_text(4040002))])
    if session_from_request(request) is not None:
        raise BadRequest("A valid session was detected and thus registration is not possible.")
    ensure_submittable(request, flow, payload)
    take_transient_payload(flow, payload)
    try:
        # The identity, the flow's completion and the session are written together or not at all.
        with transaction.atomic():
            identity, method = _register(flow, payload)
            flow.active = method
            flow.move_to(FlowState.PASSED_CHALLENGE)
            flow.save()
            hooks = after_hooks("registration", method)
            continue_with = _verify_addresses(request, flow, identity, hooks)
            session, token = None, None
            if "session" in hooks:
                session, token = issue_session(identity, method=method, request=request)
    except FlowContinues as step:
        show_screen(flow, step.screen, step.traits)
        raise
    return RegistrationSuccess(flow=flow, identity=identity, session=session, token=token, continue_with=continue_with)


def _verify_addresses(request: HttpRequest, flow: RegistrationFlow, identity: Identity,
                      hooks: list[str]) -> tuple[dict[str, Any], ...]:
    """Kratos's `verification` hook (inserted first while verification is enabled): a code for the
    first unverified address; `show_verification_ui` then puts that flow into `continue_with`."""
    if not (verification.is_enabled() or "verification" in hooks):
        return ()
    item = verification.verify_after(request, flow, identity, after="registration")
    return (item,) if item is not None and "show_verification_ui" in hooks else ()


def _register(flow: RegistrationFlow, payload: Mapping[str, Any]) -> tuple[Identity, str]:
    for strategy in registry.for_flow(RegistrationStrategy):
        try:
            return strategy.register(flow, payload), strategy.id
        except NotResponsible:
            continue
    raise FlowValidationError([(None, ui_text(4010003))])


def show_screen(flow: RegistrationFlow, screen: str, traits: Mapping[str, Any]) -> None:
    """Rebuild the flow's UI for another step of a two-step registration, keeping the traits."""
    ui = UIContainer(action=flow.container.action)
    ui.set_csrf(csrf.mask(flow.csrf_token) if flow.csrf_token else "")
    build_ui(flow, ui, screen)
    show_traits(ui, traits)
    flow.active = ""
    flow.container = ui
    flow.save()
