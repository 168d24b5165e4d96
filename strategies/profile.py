"""The profile method: the trait form of registration, and Kratos's two-step `profile_first` style.

In two steps, the first screen asks for traits only (`method: profile`); submitting it with
`screen: credential-selection` validates them and shows the credential methods, the traits kept as
hidden inputs; `screen: previous` goes back.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from identities.models import Identity
from selfservice.models import RegistrationFlow
from selfservice.registration_form import add_trait_nodes, submitted_traits, validate_traits
from selfservice.text import ui_text
from selfservice.ui import UIContainer, submit_node
from strategies.base import FlowContinues, NotResponsible

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


Strategy = ProfileStrategy
