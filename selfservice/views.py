"""Self-service HTTP endpoints (public port). Thin: parse, call the flow module, answer per client.

Plain Django views rather than DRF: these endpoints serve HTML forms and redirects as much as JSON,
and do their own anti-CSRF checking (Kratos's scheme), so Django's CSRF middleware is bypassed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID, uuid4

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from identities.api.serializers import identity_json
from kratos_project import clock
from kratos_project.config import get_config
from kratos_project.errors import KratosError, NoSessionFound, NotFound, error_response
from kratos_project.jsontime import rfc3339
from selfservice import csrf
from selfservice.api.serializers import flow_json, redirect_browser_to, set_ory_session_token, show_settings_ui
from selfservice.errors import (
    BrowserLocationChangeRequired,
    FlowExpired,
    FlowGone,
    FlowReplaced,
    SessionAlreadyAvailable,
    SessionInactive,
    SessionRefreshRequired,
)
from selfservice.flows import recovery, verification
from selfservice.flows.common import FlowKind, get_flow, take_transient_payload
from selfservice.flows.login import LOGIN, start_login, submit_login
from selfservice.flows.logout import create_logout_url, logout_api, logout_browser
from selfservice.flows.recovery import LINK_RECOVERY, RECOVERY, RecoverySuccess, start_recovery, submit_recovery
from selfservice.flows.registration import REGISTRATION, start_registration, submit_registration
from selfservice.flows.settings import SETTINGS, ensure_owner, settings_return_url, start_settings, submit_settings
from selfservice.flows.verification import VERIFICATION, start_verification, submit_verification
from selfservice.models import Flow, FlowError, FlowType
from selfservice.negotiation import accepts_json, is_json_request, request_url
from selfservice.payload import parse_payload
from selfservice.redirects import default_return_url, secure_return_to
from selfservice.responses import SeeOther, error_for, json_ok, show_flow, wants_html, with_query
from selfservice.text import ui_text
from selfservice.ui import flatten
from sessions_app.cookies import clear_session_cookie, set_session_cookie
from sessions_app.models import Session
from sessions_app.services import session_from_request, session_json
from strategies.base import FlowContinues, FlowStep, FlowValidationError

_STARTERS: dict[str, Callable[[HttpRequest, str], Flow]] = {
    "login": start_login, "registration": start_registration, "recovery": start_recovery,
    "verification": start_verification,
}
_KINDS = {"login": LOGIN, "registration": REGISTRATION, "recovery": RECOVERY, "verification": VERIFICATION}
FLOW_KINDS = {**_KINDS, "settings": SETTINGS}
_ENSURE_ENABLED = {"recovery": recovery.ensure_enabled, "verification": verification.ensure_enabled}
_GO_ZERO_TIME = "0001-01-01T00:00:00Z"


@require_http_methods(["GET"])
def init_browser(request: HttpRequest, flow: str) -> HttpResponse:
    kind = _KINDS[flow]
    try:
        created = _STARTERS[flow](request, FlowType.BROWSER)
    except SessionAlreadyAvailable as error:
        if accepts_json(request):
            return error_response(error)
        # Already signed in: an HTML browser simply goes on to where it wanted to go (allow-listed).
        return SeeOther(secure_return_to(request.GET.get("return_to", "")) or default_return_url())
    except KratosError as error:
        return error_response(error) if accepts_json(request) else error_for(request, error, kind.ui_url())
    if accepts_json(request):
        return json_ok(flow_json(created))
    return SeeOther(with_query(kind.ui_url(), flow=created.id))


@require_http_methods(["GET"])
def init_api(request: HttpRequest, flow: str) -> HttpResponse:
    return json_ok(flow_json(_STARTERS[flow](request, FlowType.API)))


@require_http_methods(["GET"])
def get_flow_view(request: HttpRequest, flow: str) -> HttpResponse:
    try:
        found = lookup_flow(request, flow, request.GET.get("id"))
    except NoSessionFound as error:  # settings only
        return error_response(error) if not wants_html(request) else HttpResponseRedirect(LOGIN.ui_url())
    return json_ok(flow_json(found))


def lookup_flow(request: HttpRequest, flow: str, flow_id: str | None) -> Flow:
    """A flow as `GET /self-service/<flow>/flows?id=` hands it out, after that endpoint's checks (the
    default pages read flows through it too): the flow kind is enabled, a settings flow belongs to the
    caller's session, a browser flow comes with its anti-CSRF cookie, and it has not expired."""
    kind = FLOW_KINDS[flow]
    if flow in _ENSURE_ENABLED:
        _ENSURE_ENABLED[flow]()
    found = get_flow(kind, flow_id)
    if kind is SETTINGS:
        ensure_owner(found, _settings_session(request))
    if found.type == FlowType.BROWSER and not getattr(found, "skip_csrf_check", False):
        csrf.verify_flow_cookie(request, found.csrf_token)
    if found.is_expired(clock.now()):
        raise _expired_on_fetch(kind, found)
    return found


def _expired_on_fetch(kind: FlowKind, found: Flow) -> FlowExpired:
    # Login, registration and api recovery flows keep the error id; the others are a 410 without one
    # (reference §4.2).
    keeps_id = kind in (LOGIN, REGISTRATION) or (kind is RECOVERY and found.is_api)
    return (FlowExpired if keeps_id else FlowGone)(found.expires_at, clock.now(), details=_restart_details(kind, found))


def _restart_details(kind: FlowKind, found: Flow) -> dict[str, Any]:
    """A GET of an expired flow says where to start again (no replacement is made, unlike a submit)."""
    init = kind.init_url(found.type)
    details: dict[str, Any] = {"api": init} if found.is_api else {"redirect_to": init}
    if found.return_to and not found.is_api:
        details["return_to"] = found.return_to
    return details


def _submitted_flow(request: HttpRequest, kind: FlowKind) -> Flow | None:
    """The flow `?flow=` names; None when an HTML browser names none (it is sent to start one)."""
    flow_id = request.GET.get("flow")
    if not flow_id and wants_html(request):
        return None
    return get_flow(kind, flow_id)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, flow: str) -> HttpResponse:
    kind = _KINDS[flow]
    if (found := _submitted_flow(request, kind)) is None:
        return SeeOther(kind.init_url(FlowType.BROWSER))
    payload: dict[str, Any] = {}
    try:
        payload = parse_payload(request)
        if flow == "login":
            return _login_succeeded(request, submit_login(request, found, payload))
        return _registration_succeeded(request, submit_registration(request, found, payload))
    except FlowContinues:
        found.refresh_from_db()
        return show_flow(request, found, kind.ui_url())
    except FlowValidationError as invalid:
        return _show_messages(request, kind, found, invalid.messages, payload)
    except KratosError as error:
        return _flow_step_error(request, kind, found, error, payload)


def _flow_step_error(request: HttpRequest, kind: FlowKind, flow: Flow, error: KratosError,
                     payload: dict[str, Any]) -> HttpResponse:
    if error.status == 400 and not isinstance(error, FlowExpired) and error.error_id is None:
        # Kratos folds any 400 of a flow step into the flow as message 4000001.
        return _show_messages(request, kind, flow, [(None, ui_text(4000001, reason=error.reason or error.message))],
                              payload)
    return error_for(request, error, kind.ui_url(), flow)


def _show_messages(request: HttpRequest, kind: FlowKind, flow: Flow, messages: list[tuple[str | None, dict[str, Any]]],
                   payload: dict[str, Any]) -> HttpResponse:
    flow.refresh_from_db()
    take_transient_payload(flow, payload)
    ui = flow.container
    ui.reset_messages()
    # Echo what was typed (never the password) so the form comes back filled in.
    ui.set_values({**flatten(payload.get("traits") or {}, "traits"),
                   **{name: payload[name] for name in ("identifier", "email") if isinstance(payload.get(name), str)}})
    for node_name, message in messages:
        ui.add_message(message, node_name)
    if flow.csrf_token:
        ui.set_csrf(csrf.mask(flow.csrf_token))  # a fresh mask on every render
    flow.container = ui
    flow.save()
    return show_flow(request, flow, kind.ui_url())


def _login_succeeded(request: HttpRequest, result: Any) -> HttpResponse:
    flow = result.flow
    if flow.is_api:
        return json_ok({"session": session_json(result.session), "session_token": result.token, "continue_with": None})
    return_to = flow.return_to or default_return_url("login", flow.active)
    response = _browser_success(request, return_to, {"session": session_json(result.session)})
    set_session_cookie(response, result.session, result.token)
    csrf.regenerate(request)  # a new principal: the old anti-CSRF token must stop working
    return response


def _registration_succeeded(request: HttpRequest, result: Any) -> HttpResponse:
    flow, body = result.flow, {"identity": _public_identity(result.identity)}
    if result.session is not None:
        body["session"] = session_json(result.session)
    if flow.is_api:
        continue_with = [*result.continue_with, *([set_ory_session_token(result.token)] if result.token else [])]
        if result.token:
            body["session_token"] = result.token
        return json_ok({**body, "continue_with": continue_with or None})
    return_to = flow.return_to or default_return_url("registration", flow.active)
    response = _browser_success(request, return_to, body, result.continue_with)
    if result.session is not None:
        set_session_cookie(response, result.session, result.token)
        csrf.regenerate(request)
    return response


def _browser_success(request: HttpRequest, return_to: str, body: dict[str, Any],
                     continue_with: Sequence[dict[str, Any]] = ()) -> HttpResponse:
    if wants_html(request):
        # A `show_verification_ui` item sends an HTML browser to the verification UI instead.
        return SeeOther(next((item["flow"]["url"] for item in continue_with), return_to))
    return json_ok({**body, "continue_with": [redirect_browser_to(return_to), *continue_with]})


def _public_identity(identity: Any) -> dict[str, Any]:
    return identity_json(identity, admin=False)


# --- logout -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
def logout_browser_url(request: HttpRequest) -> HttpResponse:
    url = create_logout_url(request)
    return json_ok({"logout_url": url.logout_url, "logout_token": url.logout_token})


@require_http_methods(["GET"])
def logout(request: HttpRequest) -> HttpResponse:
    try:
        return_to = logout_browser(request)
    except KratosError as error:
        return error_for(request, error, default_return_url("logout"))
    csrf.regenerate(request)
    response = HttpResponse(status=204) if not wants_html(request) else SeeOther(return_to)
    clear_session_cookie(response)
    return response


@csrf_exempt
@require_http_methods(["DELETE"])
def logout_native(request: HttpRequest) -> HttpResponse:
    logout_api(parse_payload(request).get("session_token"))
    return HttpResponse(status=204)


# --- errors -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
def flow_error(request: HttpRequest) -> HttpResponse:
    error_id = request.GET.get("id") or request.GET.get("error")
    if error_id == "stub:500":
        # Kratos answers with an unsaved container: a fresh id and Go's zero times.
        stub = {"code": 500, "status": "Internal Server Error", "reason": "This is a stub error.",
                "message": "An internal server error occurred, please contact the system administrator"}
        return json_ok({"id": str(uuid4()), "error": stub, "created_at": _GO_ZERO_TIME, "updated_at": _GO_ZERO_TIME})
    stored = stored_error(error_id)
    return json_ok({"id": str(stored.id), "error": stored.error, "created_at": rfc3339(stored.created_at),
                    "updated_at": rfc3339(stored.updated_at)})


def stored_error(error_id: str | None) -> FlowError:
    try:
        return FlowError.objects.get(id=UUID(str(error_id)))
    except (FlowError.DoesNotExist, ValueError) as missing:
        raise NotFound("The requested error could not be found.") from missing


# --- settings ---------------------------------------------------------------------------------


def _login_for(request: HttpRequest) -> str:
    """Where a browser without a session goes to sign in first (it comes back afterwards)."""
    return with_query(LOGIN.init_url(FlowType.BROWSER), return_to=request_url(request))


@require_http_methods(["GET"])
def settings_init_browser(request: HttpRequest) -> HttpResponse:
    try:
        created = start_settings(request, FlowType.BROWSER)
    except SessionInactive as error:
        return error_response(error) if accepts_json(request) else SeeOther(_login_for(request))
    if accepts_json(request):
        return json_ok(flow_json(created))
    return SeeOther(with_query(SETTINGS.ui_url(), flow=created.id))


@require_http_methods(["GET"])
def settings_init_api(request: HttpRequest) -> HttpResponse:
    return json_ok(flow_json(start_settings(request, FlowType.API)))


def _settings_session(request: HttpRequest) -> Session:
    """Fetching or submitting a settings flow: the id-less 401 (JSON) or a redirect to the login UI."""
    session = session_from_request(request)
    if session is None:
        raise NoSessionFound()
    return session


@csrf_exempt
@require_http_methods(["GET", "POST"])
def settings_submit(request: HttpRequest) -> HttpResponse:
    found = get_flow(SETTINGS, request.GET.get("flow"))
    payload: dict[str, Any] = {}
    try:
        session = _settings_session(request)
        payload = parse_payload(request)
        saved = submit_settings(request, found, payload, session)
    except NoSessionFound as error:
        return error_response(error) if not wants_html(request, found) else HttpResponseRedirect(LOGIN.ui_url())
    except SessionRefreshRequired as error:
        return error_response(error) if not wants_html(request, found) else SeeOther(error.redirect_browser_to)
    except FlowValidationError as invalid:
        return _show_messages(request, SETTINGS, found, invalid.messages, payload)
    except KratosError as error:
        return _flow_step_error(request, SETTINGS, found, error, payload)
    if wants_html(request, saved):
        return SeeOther(settings_return_url(saved))
    body = flow_json(saved)
    if saved.return_to and not saved.is_api:
        body["continue_with"] = [redirect_browser_to(saved.return_to)]
    return json_ok(body)


# --- recovery and verification ----------------------------------------------------------------

_SUBMITTERS: dict[str, Callable[[HttpRequest, Any, dict[str, Any]], FlowStep | RecoverySuccess]] = {
    "recovery": submit_recovery, "verification": submit_verification,
}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def submit_recovery_or_verification(request: HttpRequest, flow: str) -> HttpResponse:
    """Also answers GET: the emailed links (`?flow=&code=`, `?flow=&token=`) are opened in a browser."""
    kind = _KINDS[flow]
    if (found := _submitted_flow(request, kind)) is None:
        return SeeOther(kind.init_url(FlowType.BROWSER))
    payload: dict[str, Any] = {}
    try:
        payload = parse_payload(request)
        outcome = _SUBMITTERS[flow](request, found, payload)
    except FlowValidationError as invalid:
        return _show_messages(request, kind, found, invalid.messages, payload)
    except FlowReplaced as replaced:
        if wants_html(request):
            return SeeOther(with_query(kind.ui_url(), flow=replaced.replacement_id))
        return error_response(replaced)
    except SessionAlreadyAvailable as error:
        return SeeOther(default_return_url()) if wants_html(request) else error_response(error)
    except KratosError as error:
        return _flow_step_error(request, kind, found, error, payload)
    if isinstance(outcome, RecoverySuccess):
        return _recovery_succeeded(request, outcome)
    if outcome.redirect_to:
        return SeeOther(outcome.redirect_to)
    if flow == "verification" and wants_html(request):
        # An emailed link of an api flow is opened in a browser too: Kratos decides by the request alone.
        return SeeOther(with_query(kind.ui_url(), flow=outcome.flow.id))
    return show_flow(request, outcome.flow, kind.ui_url(), status=200)


def _recovery_succeeded(request: HttpRequest, result: RecoverySuccess) -> HttpResponse:
    """Kratos hands over to the settings UI: a 303 for HTML browsers (and always after a link); JSON
    clients get 422 `browser_location_change_required`, or, with the `use_continue_with_transitions`
    feature flag, the recovery flow with `continue_with` (the session token first, for api flows)."""
    flow, settings_url = result.flow, with_query(SETTINGS.ui_url(), flow=result.settings_flow.id)
    by_code = result.method != LINK_RECOVERY
    response: HttpResponse
    if by_code and get_config().get("feature_flags.use_continue_with_transitions") and (
            flow.is_api or is_json_request(request)):
        continue_with = [set_ory_session_token(result.token)] if flow.is_api else []
        continue_with.append(show_settings_ui(result.settings_flow.id, settings_url))
        response = json_ok({**flow_json(flow), "continue_with": continue_with})
    elif by_code and is_json_request(request):
        response = error_response(BrowserLocationChangeRequired(settings_url))
    else:
        response = SeeOther(settings_url)
    if result.method == LINK_RECOVERY or not flow.is_api:
        set_session_cookie(response, result.session, result.token)
    return response
