"""The profile method: the trait form of registration, and Kratos's two-step `profile_first` style.

In two steps, the first screen asks for traits only (`method: profile`); submitting it with
`screen: credential-selection` validates them and shows the credential methods, the traits kept as
hidden inputs; `screen: previous` goes back.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from identities.models import Identity
from identities.schemas import get_schema
from identities.services import update_traits
from kratos_project.errors import Conflict
from selfservice.flows.settings import ensure_privileged
from selfservice.models import RegistrationFlow, SettingsFlow
from selfservice.text import ui_text
from selfservice.traits import add_trait_nodes, show_traits, submitted_traits, validate_traits
from selfservice.ui import UIContainer, submit_node
from sessions_app.models import Session
from strategies.base import FlowContinues, FlowValidationError, NotResponsible

METHOD = "profile"
PREVIOUS = "previous"


class ProfileStrategy:
    id: ClassVar[str] = METHOD

    def add_registration_nodes(self, flow: RegistrationFlow, ui: UIContainer, screen: str) -> None:
        add_trait_nodes(flow, ui, hidden=screen == "credentials")
        if screen == "profile":
            ui.upsert(submit_node("method", METHOD, METHOD, ui_text(1040001)))
        elif screen == "credentials":
            ui.upsert(submit_node("screen", PREVIOUS, METHOD, ui_text(1040008)))
            ui.messages.append(ui_text(1040009))

    def register(self, flow: RegistrationFlow, payload: Mapping[str, Any]) -> Identity:
        if payload.get("method") != METHOD and not payload.get("screen"):
            raise NotResponsible()
        traits = submitted_traits(flow, payload)
        if payload.get("screen") == PREVIOUS:
            raise FlowContinues(screen="profile", traits=traits)
        validate_traits(flow, traits)
        raise FlowContinues(screen="credentials", traits=traits)

    # --- settings ------------------------------------------------------------------------------

    def add_settings_nodes(self, flow: SettingsFlow, ui: UIContainer) -> None:
        add_trait_nodes(flow, ui, group=METHOD)
        show_traits(ui, flow.identity.traits, group=METHOD)
        ui.upsert(submit_node("method", METHOD, METHOD, ui_text(1070003)))

    def update_settings(self, flow: SettingsFlow, payload: Mapping[str, Any], session: Session) -> None:
        if payload.get("method") != METHOD:
            raise NotResponsible()
        traits = submitted_traits(flow, payload)
        validate_traits(flow, traits)
        if _protected(flow.identity, traits) != _protected(flow.identity, flow.identity.traits):
            ensure_privileged(flow, session)  # identifiers and addresses are credentials too
        try:
            update_traits(flow.identity, traits)
        except Conflict as error:
            raise FlowValidationError([(None, ui_text(4000007))]) from error


def _protected(identity: Identity, traits: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the schema derives from traits that only a recent sign-in may change."""
    extensions = get_schema(identity.schema_id).validate(traits)
    return extensions.identifiers, extensions.verifiable, extensions.recovery


Strategy = ProfileStrategy
