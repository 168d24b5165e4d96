"""The parts of the link method's form that recovery and verification share."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfservice import codes
from selfservice.models import FlowState, RecoveryFlow, VerificationFlow
from selfservice.text import ui_text
from selfservice.ui import Node, UIContainer, input_node, submit_node
from strategies import sending
from strategies.base import FlowStep

METHOD = "link"


def email_node(value: str | None = None) -> Node:
    return input_node("email", METHOD, type="email", value=value, required=True, label=ui_text(1070007))


def add_email_form(ui: UIContainer) -> None:
    ui.upsert(email_node())
    ui.nodes.append(submit_node("method", METHOD, METHOD, ui_text(1070009)))


def token_of(payload: Mapping[str, Any]) -> str:
    token = payload.get("token")
    return token if isinstance(token, str) else ""


def lifespan_minutes() -> int:
    return sending.minutes(codes.lifespan(METHOD))


def show_sent(flow: RecoveryFlow | VerificationFlow, email: str, message_id: int) -> FlowStep:
    """The form again, the address filled in, saying an email was sent (whether or not it was known)."""
    ui = flow.container
    ui.upsert(email_node(email))
    ui.messages = [ui_text(message_id)]
    flow.container = ui
    flow.move_to(FlowState.SENT_EMAIL)
    flow.save()
    return FlowStep(flow)
