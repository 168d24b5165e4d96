"""The default self-service pages (public port, `/ui/…`): what a browser sees while no UI is deployed.

Each flow page is what Ory's UIs are, rendered by the server: it reads the flow the way
`GET /self-service/<flow>/flows?id=` does (in-process, with the browser's cookies, through
`views.lookup_flow`) and renders its `ui.nodes` and `ui.messages` generically (selfservice/ui_forms.py)
into forms that post to `ui.action`, so the flow endpoints see exactly what an API client would send.
A page without `?flow=` starts a browser flow, which redirects back to it.

A flow whose `selfservice.flows.<flow>.ui_url` is configured is never sent here and its page answers
404; `KRATOS_DEFAULT_PAGES=0` unmounts all of them (`urlpatterns()`). Texts are translated by Kratos
message id in the browser's language (templatetags/kratos_pages.py).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from identities.models import Identity, VerifiableAddress
from identities.schemas import get_schema
from kratos_project.config import get_config
from kratos_project.errors import KratosError, NoSessionFound, NotFound
from selfservice import csrf
from selfservice.flows.login import LOGIN
from selfservice.flows.logout import create_logout_url
from selfservice.flows.recovery import RECOVERY
from selfservice.flows.registration import REGISTRATION
from selfservice.flows.settings import SETTINGS
from selfservice.flows.verification import VERIFICATION
from selfservice.models import FlowType
from selfservice.redirects import PAGES_PATH, page_url, pages_enabled, uses_default_page
from selfservice.responses import SeeOther, error_for, with_query
from selfservice.ui import flatten, scalar_traits
from selfservice.ui_forms import forms_of, needs_titles
from selfservice.views import FLOW_KINDS, lookup_flow, stored_error
from sessions_app.services import identity_sessions, revoke_identity_session, session_from_request

_TITLES = {
    "login": _("Sign in"), "registration": _("Create an account"), "recovery": _("Recover your account"),
    "verification": _("Verify your account"), "settings": _("Account settings"),
}


def _localized(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render in the browser's language (Accept-Language); the API never is localised."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(translation.get_language_from_request(request)):
            return view(request, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, f"pages/{template}", context, status=status)
    patch_vary_headers(response, ("Accept-Language",))
    # Sign-in forms must never be framed by another site (clickjacking).
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


@require_http_methods(["GET"])
@_localized
def flow_page(request: HttpRequest, flow: str) -> HttpResponse:
    if not uses_default_page(flow):
        raise NotFound()
    kind = FLOW_KINDS[flow]
    init_url = kind.init_url(FlowType.BROWSER)
    flow_id = request.GET.get("flow")
    if not flow_id:
        # Starting the flow brings the browser back here; `return_to` and the other init parameters go along.
        query = request.GET.copy()
        return SeeOther(f"{init_url}?{query.urlencode()}" if query else init_url)
    try:
        found = lookup_flow(request, flow, flow_id)
    except NoSessionFound:  # a settings flow, signed out: sign in, then start settings again
        return SeeOther(with_query(_sign_in_url(), return_to=init_url))
    except NotFound:  # an old bookmark or a cleaned-up flow: a new one
        return SeeOther(init_url)
    except KratosError as error:  # expired, another browser's flow (anti-CSRF), disabled: the error page
        return error_for(request, error, kind.ui_url())
    forms = forms_of(found.ui)
    return _page(request, "flow.html", {
        "title": _TITLES[flow], "ui": found.ui, "forms": forms, "titled": needs_titles(forms), "links": _links(request, flow),
        "has_script": any(node["type"] == "script" for node in found.ui["nodes"]),
    })


def _links(request: HttpRequest, flow: str) -> list[tuple[Any, str]]:
    """The ways from one page to another, as (text, URL). Init URLs: they honour configured UIs."""
    config = get_config()
    if flow == "login":
        links = []
        if config.get("selfservice.flows.registration.enabled", True):
            links.append((_("Create an account"), REGISTRATION.init_url(FlowType.BROWSER)))
        if config.get("selfservice.flows.recovery.enabled"):
            links.append((_("Forgot your password?"), RECOVERY.init_url(FlowType.BROWSER)))
        return links
    if flow == "registration":
        return [(_("Already have an account? Sign in"), _sign_in_url())]
    # Settings, and verification right after signing up, are for a signed-in browser.
    if flow == "settings" or (flow == "verification" and session_from_request(request) is not None):
        return [(_("Back to your account"), page_url())]
    return [(_("Back to sign in"), _sign_in_url())]


@require_http_methods(["GET"])
@_localized
def error_page(request: HttpRequest) -> HttpResponse:
    if not uses_default_page("error"):
        raise NotFound()
    try:
        error = stored_error(request.GET.get("id")).error
    except NotFound as missing:
        return _page(request, "error.html", {"error": missing.body()["error"], "sign_in": _sign_in_url()}, status=404)
    return _page(request, "error.html", {"error": error, "sign_in": _sign_in_url()})


def _sign_in_url() -> str:
    return LOGIN.init_url(FlowType.BROWSER)


@require_http_methods(["GET"])
@_localized
def home_page(request: HttpRequest) -> HttpResponse:
    """The signed-in home: who is signed in, this session, and every active session with a revoke button."""
    session = session_from_request(request)
    if session is None:
        return SeeOther(with_query(_sign_in_url(), return_to=page_url()))
    return _page(request, "home.html", {
        "session": session,
        "traits": _trait_rows(session.identity),
        "sessions": list(identity_sessions(session.identity_id, active=True)),
        "csrf_token": csrf.mask(csrf.request_token(request)),
        "sessions_url": page_url("sessions/"),
        "logout_url": create_logout_url(request).logout_url,
        "settings_url": SETTINGS.init_url(FlowType.BROWSER),
        "verification_url": VERIFICATION.init_url(FlowType.BROWSER)
        if get_config().get("selfservice.flows.verification.enabled") else "",
    })


def _trait_rows(identity: Identity) -> list[tuple[str, Any, VerifiableAddress | None]]:
    """The identity's filled-in traits as (title, value, the address it is): titled as its schema titles
    them, in schema order, an address with its verification status."""
    values = flatten(identity.traits or {}, "traits")
    addresses = {address.value: address for address in identity.verifiable_addresses.all()}
    return [(prop.get("title") or name.removeprefix("traits."), values[name], addresses.get(str(values[name]).lower()))
            for name, prop, _ in scalar_traits(get_schema(identity.schema_id).document)
            if values.get(name) not in (None, "")]


@csrf_exempt  # Kratos's anti-CSRF scheme below, as for the flows, not Django's (the console's)
@require_http_methods(["POST"])
def revoke_session_page(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """The home page's revoke button: `DELETE /sessions/{id}` for a form (the current session signs out instead)."""
    session = session_from_request(request)
    if session is None:
        return SeeOther(with_query(_sign_in_url(), return_to=page_url()))
    csrf.verify_submission(request, csrf.token_from_cookie(request) or "", request.POST.get("csrf_token"))
    if session_id != session.id:
        revoke_identity_session(session.identity, session_id)
    return SeeOther(page_url())


def urlpatterns() -> list[URLPattern]:
    """The pages' routes on the public port, unless KRATOS_DEFAULT_PAGES=0."""
    if not pages_enabled():
        return []
    return [
        path(PAGES_PATH, home_page),
        path(f"{PAGES_PATH}error", error_page),
        path(f"{PAGES_PATH}sessions/<uuid:session_id>/revoke", revoke_session_page),
        *(path(f"{PAGES_PATH}{flow}", flow_page, {"flow": flow}) for flow in FLOW_KINDS),
    ]
