"""What a strategy is: one class per method, implementing the protocol of each flow it serves.

Kratos's password strategy serves login, registration and settings; code serves login,
registration, recovery and verification. Flows ask the registry for the strategies of their
protocol and never name a method themselves.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from django.http import HttpRequest

    from identities.models import Identity, VerifiableAddress
    from selfservice.models import Flow, LoginFlow, RecoveryFlow, RegistrationFlow, SettingsFlow, VerificationFlow
    from selfservice.ui import Message, UIContainer
    from sessions_app.models import Session


class NotResponsible(Exception):
    """The submitted `method` belongs to another strategy."""


class FlowValidationError(Exception):
    """The submission is invalid: messages for the flow, each on a node (by name) or on the flow.

    Not an error envelope: the flow is re-rendered with these messages (400 JSON, 303 for HTML).
    """

    def __init__(self, messages: Sequence[tuple[str | None, Message]]) -> None:
        super().__init__("; ".join(m["text"] for _, m in messages))
        self.messages = list(messages)


class FlowContinues(Exception):
    """The strategy moved the flow to another screen (two-step registration, a code sent, …).

    Not a failure: the flow answers with its new UI (400 + flow for JSON clients, 303 for HTML).
    """

    def __init__(self, screen: str, traits: Mapping[str, Any] | None = None) -> None:
        super().__init__(screen)
        self.screen, self.traits = screen, dict(traits or {})


@dataclass(frozen=True)
class FlowStep:
    """A recovery or verification step that did not finish the flow: show `flow` (200 JSON, 303 to its
    UI for HTML browsers), or, when `redirect_to` is set, send every client there with a 303 (a link
    opened in a browser, a flow restarted for a JSON client)."""

    flow: Flow
    redirect_to: str = ""


@dataclass(frozen=True)
class Authenticated:
    identity: Identity
    method: str
    aal: str = "aal1"


@runtime_checkable
class LoginStrategy(Protocol):
    id: ClassVar[str]

    def add_login_nodes(self, flow: LoginFlow, ui: UIContainer) -> None:
        """Add this method's nodes to a new login flow (refresh flows have `flow.identity`)."""

    def login(self, flow: LoginFlow, payload: Mapping[str, Any]) -> Authenticated:
        """Authenticate, or raise NotResponsible / FlowValidationError."""


@runtime_checkable
class RegistrationStrategy(Protocol):
    id: ClassVar[str]

    def add_registration_nodes(self, flow: RegistrationFlow, ui: UIContainer, screen: str) -> None:
        """Add this method's nodes to a registration screen: "unified" (one form), or "profile" and
        "credentials" (the two steps of `profile_first`)."""

    def register(self, flow: RegistrationFlow, payload: Mapping[str, Any]) -> Identity:
        """Create the identity, or raise NotResponsible / FlowValidationError."""


@runtime_checkable
class SettingsStrategy(Protocol):
    id: ClassVar[str]

    def add_settings_nodes(self, flow: SettingsFlow, ui: UIContainer) -> None:
        """Add this method's nodes to a settings flow of `flow.identity`."""

    def update_settings(self, flow: SettingsFlow, payload: Mapping[str, Any], session: Session) -> None:
        """Apply the change, or raise NotResponsible / FlowValidationError / SessionRefreshRequired."""


@runtime_checkable
class VerificationStrategy(Protocol):
    id: ClassVar[str]

    def add_verification_nodes(self, flow: VerificationFlow, ui: UIContainer) -> None:
        """The nodes of a verification flow in its state: asking for an address, or for the code just sent."""

    def verify(self, request: HttpRequest, flow: VerificationFlow, payload: Mapping[str, Any]) -> FlowStep:
        """Send a code or link, or use one; or raise NotResponsible / FlowValidationError / a KratosError."""

    def send_verification(self, flow: VerificationFlow, address: VerifiableAddress) -> None:
        """Send a code or link for a known address (the verification hook after registration or settings)."""


@runtime_checkable
class RecoveryStrategy(Protocol):
    id: ClassVar[str]

    def add_recovery_nodes(self, flow: RecoveryFlow, ui: UIContainer) -> None:
        """The nodes of a new recovery flow."""

    def recover(self, request: HttpRequest, flow: RecoveryFlow, payload: Mapping[str, Any]) -> FlowStep | Authenticated:
        """Send a code or link, or use one: the recovered identity when it was valid. Raises
        NotResponsible / FlowValidationError / a KratosError."""
