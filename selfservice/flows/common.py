"""What every self-service flow shares: creation, lookup, and the checks before a submission.

A flow kind (`login`, `registration`, …) is described once by a `FlowKind`; the functions here do
the rest the same way for all of them, as Kratos's flow packages do.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from django.http import HttpRequest

from kratos_project import clock
from kratos_project.config import get_config, parse_duration
from kratos_project.errors import BadRequest, KratosError, NotFound
from selfservice import csrf
from selfservice.errors import FlowDisabled, FlowExpired
from selfservice.models import Flow, FlowType
from selfservice.negotiation import is_json_request, request_url
from selfservice.redirects import secure_return_to, ui_url
from selfservice.text import ui_text
from selfservice.ui import Message, UIContainer
from strategies.base import FlowStep, FlowValidationError, NotResponsible
from strategies.registry import registry

ORIGIN_ON_API_FLOW = (
    'The HTTP Request Header included the "Origin" key, indicating that this request was made as part of an '
    "AJAX request in a Browser. The flow however was initiated as an API request. To prevent potential misuse "
    "and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the "
    "documentation."
)
COOKIE_ON_API_FLOW = ORIGIN_ON_API_FLOW.replace('"Origin" key, indicating that this request was made as part of an '
                                                "AJAX request in a Browser", '"Cookie" key, indicating that this '
                                                "request was made by a Browser")
T = TypeVar("T")
# Cloudflare sets these on every request through it; Kratos lets them through on api flows.
_CLOUDFLARE_COOKIE_PREFIXES = ("__cf", "_cf", "cf_")


@dataclass(frozen=True)
class FlowKind:
    name: str  # "login", "registration": the config key and the URL segment
    model: type[Flow]
    expired_message_id: int  # "The <flow> flow expired … minutes ago"

    def ui_url(self) -> str:
        return ui_url(self.name)

    def ui_url_for(self, flow_id: UUID) -> str:
        """The UI page showing one flow: `<ui_url>?flow=<id>`."""
        url = self.ui_url()
        return f"{url}{'&' if '?' in url else '?'}{urlencode({'flow': flow_id})}"

    def init_url(self, flow_type: str) -> str:
        return f"{get_config().public.base_url}self-service/{self.name}/{flow_type}"

    def action(self, flow_id: UUID) -> str:
        return f"{get_config().public.base_url}self-service/{self.name}?flow={flow_id}"

    def lifespan(self) -> Any:
        return parse_duration(str(get_config().get(f"selfservice.flows.{self.name}.lifespan") or "1h"))


@dataclass(frozen=True)
class MethodFlow:
    """Recovery or verification: a flow kind whose method (`code` or `link`) is fixed when a flow is
    made, in `active`, from `selfservice.flows.<name>.use`; the strategy of that method draws the
    form and takes every submission. Kratos's two flow packages repeat this; here it is written once."""

    kind: FlowKind
    protocol: type[Any]  # RecoveryStrategy or VerificationStrategy
    add_nodes: Callable[[Any, Flow, UIContainer], None]  # calls the strategy's add_<flow>_nodes
    no_strategy_message_id: int  # "Could not find a strategy to recover/verify your account with."

    def is_enabled(self) -> bool:
        return bool(get_config().get(f"selfservice.flows.{self.kind.name}.enabled"))

    def ensure_enabled(self) -> None:
        if not self.is_enabled():
            raise FlowDisabled(self.kind.name)

    def primary_strategy(self) -> Any:
        return configured_strategy(self.protocol, self.kind.name)

    def build_ui(self, flow: Flow, ui: UIContainer) -> None:
        self.add_nodes(method_strategy(self.protocol, flow.active) or self.primary_strategy(), flow, ui)

    def start(self, request: HttpRequest, flow_type: str) -> Flow:
        self.ensure_enabled()
        return create_flow(self.kind, request, flow_type, self.build_ui, active=self.primary_strategy().id)

    def submit(self, request: HttpRequest, flow: Flow, payload: Mapping[str, Any], run: Callable[[Any], T]) -> T | FlowStep:
        """`run(strategy)` with the flow's strategy; an expired flow is replaced instead (Kratos
        redirects to the new one rather than answering 410)."""
        if flow.is_expired(clock.now()):
            return replace_and_redirect(self.kind, request, flow, self.build_ui)
        take_transient_payload(flow, payload)
        strategy = method_strategy(self.protocol, flow.active)
        try:
            if strategy is None:
                raise NotResponsible()
            return run(strategy)
        except NotResponsible:
            raise FlowValidationError([(None, ui_text(self.no_strategy_message_id))]) from None

    def restart_with(self, request: HttpRequest, flow_type: str, method: str, message: Message) -> Flow:
        """A fresh flow carrying `message` (Kratos's retry…FlowWith…)."""
        def build(flow: Flow, ui: UIContainer) -> None:
            self.build_ui(flow, ui)
            ui.messages.append(message)

        return create_flow(self.kind, request, flow_type, build, active=method)

    def restarted(self, request: HttpRequest, flow_type: str, method: str, message: Message) -> FlowStep:
        """Restart the flow with `message` and send the client to the new one."""
        replacement = self.restart_with(request, flow_type, method, message)
        return FlowStep(replacement, redirect_to=restart_location(self.kind, request, replacement))


def create_flow(kind: FlowKind, request: HttpRequest, flow_type: str, build_ui: Callable[[Flow, UIContainer], None],
                *, lifespan: timedelta | None = None, **fields: Any) -> Flow:
    """A new flow with its UI, saved. `return_to` is allow-listed here, before anything is stored.

    `fields` are the kind's own fields; they may also replace what the request would give
    (`request_url`, `return_to`, `csrf_token`) for a flow made on behalf of another flow (a hook) or
    by the admin API, whose `lifespan` may differ from the kind's.
    """
    now = clock.now()
    if "return_to" not in fields:
        fields["return_to"] = secure_return_to(request.GET.get("return_to", ""))
    if "csrf_token" not in fields:
        fields["csrf_token"] = csrf.request_token(request) if flow_type == FlowType.BROWSER else ""
    fields.setdefault("request_url", request_url(request))
    flow = kind.model(type=flow_type, issued_at=now, expires_at=now + (lifespan or kind.lifespan()), ui={}, **fields)
    ui = UIContainer(action=kind.action(flow.id))
    # Api flows get the node too, empty: a native client has no anti-CSRF cookie and is never checked.
    ui.set_csrf(csrf.mask(flow.csrf_token) if flow.csrf_token else "")
    build_ui(flow, ui)
    flow.container = ui
    flow.save(force_insert=True)
    return flow


def method_strategy(protocol: type[T], method: str) -> T | None:
    """The enabled strategy of `protocol` serving `method` (a recovery or verification flow's `active`)."""
    return next((s for s in registry.for_flow(protocol) if s.id == method), None)  # type: ignore[attr-defined]


def configured_strategy(protocol: type[T], flow: str) -> T:
    """The enabled strategy `selfservice.flows.<flow>.use` names (Kratos's 500 when there is none)."""
    use = str(get_config().get(f"selfservice.flows.{flow}.use") or "code")
    if (strategy := method_strategy(protocol, use)) is None:
        have = [s.id for s in registry.for_flow(protocol)]  # type: ignore[attr-defined]
        raise KratosError(f"unable to find strategy for {use} have {have}")
    return strategy


def replace_and_redirect(kind: FlowKind, request: HttpRequest, flow: Flow,
                         build_ui: Callable[[Flow, UIContainer], None]) -> FlowStep:
    """Kratos answers an expired recovery or verification submit with a redirect to a replacement
    flow (see `restart_location`), not with a 410."""
    expired = replace_expired(kind, flow, build_ui, active=flow.active)
    replacement = kind.model.objects.get(id=expired.replacement_id)
    return FlowStep(replacement, redirect_to=restart_location(kind, request, replacement))


def restart_location(kind: FlowKind, request: HttpRequest, flow: Flow) -> str:
    """Where Kratos sends a client whose recovery or verification flow it restarted (or replaced after
    expiry): JSON clients and api flows fetch the new flow, HTML browsers open its UI."""
    if flow.is_api or is_json_request(request):
        return f"{get_config().public.base_url}self-service/{kind.name}/flows?{urlencode({'id': flow.id})}"
    return kind.ui_url_for(flow.id)


def get_flow(kind: FlowKind, flow_id: str | None) -> Flow:
    try:
        return kind.model.objects.get(id=UUID(str(flow_id)))
    except (ValueError, kind.model.DoesNotExist) as error:
        raise NotFound(f"The {kind.name} flow could not be found.") from error


def replace_expired(kind: FlowKind, flow: Flow, build_ui: Callable[[Flow, UIContainer], None],
                    **fields: Any) -> FlowExpired:
    """Kratos answers an expired submit with a fresh flow of the same type, already created.

    `fields` carries the kind's own fields over (e.g. a login's `refresh`).
    """
    now = clock.now()
    replacement = kind.model(
        type=flow.type, issued_at=now, expires_at=now + kind.lifespan(), request_url=flow.request_url,
        return_to=flow.return_to, ui={}, csrf_token=flow.csrf_token, identity_schema=flow.identity_schema,
        organization_id=flow.organization_id, **fields,
    )
    ui = UIContainer(action=kind.action(replacement.id))
    ui.set_csrf(csrf.mask(replacement.csrf_token) if replacement.csrf_token else "")
    build_ui(replacement, ui)
    ui.messages.append(ui_text(kind.expired_message_id, expired_at=flow.expires_at,
                               expired_at_unix=int(flow.expires_at.timestamp())))
    replacement.container = ui
    replacement.save(force_insert=True)
    return FlowExpired(flow.expires_at, now, replacement_id=replacement.id)


def ensure_submittable(request: HttpRequest, flow: Flow, payload: Mapping[str, Any]) -> None:
    """Kratos's EnsureCSRF: api flows refuse browser traits, browser flows need the anti-CSRF token."""
    if flow.is_api:
        if request.headers.get("Origin"):
            raise BadRequest(ORIGIN_ON_API_FLOW)
        cookies = [name for name in request.COOKIES if not name.startswith(_CLOUDFLARE_COOKIE_PREFIXES)]
        if cookies:
            raise BadRequest(COOKIE_ON_API_FLOW, details={"found cookies": cookies})
        return
    csrf.verify_submission(request, flow.csrf_token, payload.get("csrf_token"))


def take_transient_payload(flow: Flow, payload: Mapping[str, Any]) -> None:
    """Kratos echoes the last submitted `transient_payload` on the flow; it never reaches the identity."""
    if isinstance(transient := payload.get("transient_payload"), Mapping):
        flow.transient_payload = dict(transient)
