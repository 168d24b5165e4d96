"""Session endpoints (Kratos `session/handler.go`), thin: parse, call one service, render.

Public: whoami and the caller's own sessions. Admin: every session, and an identity's sessions.
whoami is a plain Django view, the others DRF viewsets.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from kratos_project.config import get_config
from kratos_project.errors import (
    BadRequest,
    KratosError,
    MethodNotAllowed,
    NoSessionFound,
    Unauthorized,
    error_response,
)
from kratos_project.pagination import (
    keyset_link_header,
    offset_link_header,
    parse_offset_pagination,
)
from kratos_project.rendering import KratosJSONRenderer
from kratos_project.uuids import parse_path_uuid
from sessions_app import services
from sessions_app.models import Session

ADMIN_DEFAULT_PAGE_SIZE = 250
ADMIN_MAX_PAGE_SIZE = 1000
EXPANDABLE = ("identity", "devices")
# Go's strconv.ParseBool, which Kratos applies to `active`.
_BOOLEANS = {**dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True),
             **dict.fromkeys(("0", "f", "F", "false", "FALSE", "False"), False)}
# Every method Kratos answers whoami to (CONNECT aside, which no Django view receives); DELETE reaches it
# through `DELETE /sessions/{id}` with the id "whoami". In the order of the `Allow` header DRF wrote.
WHOAMI_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
# whoami renders its body as the DRF views do.
_JSON = KratosJSONRenderer()
_JSON_CONTENT_TYPE = f"{_JSON.media_type}; charset={_JSON.charset}"


def _active_filter(request: Request) -> bool | None:
    raw = request.query_params.get("active", "")
    if raw == "":
        return None
    if raw not in _BOOLEANS:
        raise BadRequest(message="could not parse parameter active")
    return _BOOLEANS[raw]


def _expand(request: Request) -> set[str]:
    expand = set()
    for value in request.query_params.getlist("expand"):
        if value.lower() not in EXPANDABLE:
            raise BadRequest(f"Could not parse expand option: {value}")
        expand.add(value.lower())
    return expand


def _keyset_size(request: Request) -> int:
    raw = next((v for v in request.query_params.getlist("page_size") if v), "")
    if not raw:
        return ADMIN_DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as error:
        raise BadRequest(message="could not parse parameter page_size") from error
    return ADMIN_DEFAULT_PAGE_SIZE if size <= 0 else min(size, ADMIN_MAX_PAGE_SIZE)


def _caller(request: Request) -> Session:
    """The session of `/sessions*` callers; none is the id-less 401 of those endpoints."""
    session = services.session_from_request(request)
    if session is None:
        raise Unauthorized("No valid session cookie found.")
    return session


def _offset_page(request: Request, queryset: Any) -> Response:
    """One page of an offset list (`/sessions`, `/admin/identities/{id}/sessions`), everything expanded."""
    paging = parse_offset_pagination(request.query_params)
    total = queryset.count()
    start = paging.page * paging.per_page
    page = list(queryset[start:start + paging.per_page])
    services.load_addresses(s.identity for s in page)
    headers = {"Link": offset_link_header(request, page=paging.page, per_page=paging.per_page, total=total),
               "X-Total-Count": str(total)}
    return Response([services.session_json(s) for s in page], headers=headers)


def _redirect(request: Request, base_url: str, prefix: str = "") -> HttpResponseRedirect:
    """Kratos's cross-port redirect (`x/redir/port_redirect.go`): same path and query on the other
    port; `prefix` is "admin/" towards the admin port, whose routes all live under /admin."""
    path = request.path.removeprefix("/admin").lstrip("/")
    query = f"?{request.META['QUERY_STRING']}" if request.META.get("QUERY_STRING") else ""
    return HttpResponseRedirect(f"{base_url}{prefix}{path}{query}", status=status.HTTP_307_TEMPORARY_REDIRECT)


@csrf_exempt  # as Kratos, which exempts whoami from its CSRF check
def whoami(request: HttpRequest) -> HttpResponse:
    """`/sessions/whoami`, which every service in front of this one calls for each request it gets.

    A plain Django view: DRF's dispatch cost 0.07–0.1 ms of CPU per request on the benchmark
    machine, about a tenth of whoami's (docs/benchmarks.md). It answers byte for byte as the DRF
    view did: DRF's JSON renderer, errors in Kratos's envelope, and DRF's `Allow` header on every
    answer (Kratos sends none; kept so that nothing changes for clients).
    """
    try:
        response = _whoami(request)
    except KratosError as error:
        response = error_response(error)
    response["Allow"] = ", ".join(WHOAMI_METHODS)
    return response


def _whoami(request: HttpRequest) -> HttpResponse:
    if request.method not in WHOAMI_METHODS:
        raise MethodNotAllowed()
    session = services.session_from_request(request)
    if session is None:
        raise NoSessionFound()
    response = HttpResponse(_JSON.render(services.session_json(session)), content_type=_JSON_CONTENT_TYPE)
    response["X-Kratos-Authenticated-Identity-Id"] = str(session.identity_id)
    services.refresh_session_cookie(request, response, session)
    return response


class PublicSessionViewSet(ViewSet):
    def list(self, request: Request) -> Response:
        session = _caller(request)
        return _offset_page(request, services.identity_sessions(session.identity_id, active=True, exclude=session))

    def destroy_others(self, request: Request) -> Response:
        session = _caller(request)
        return Response({"count": services.revoke_other_sessions(session.identity, keep=session)})

    def destroy(self, request: Request, pk: str) -> Response:
        session = _caller(request)
        session_id = parse_path_uuid(pk)
        if session_id == session.id:
            raise BadRequest(message="cannot revoke current session")
        services.revoke_identity_session(session.identity, session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def redirect_to_admin(self, request: Request, pk: str) -> HttpResponseRedirect:
        return _redirect(request, get_config().admin.base_url, prefix="admin/")


class AdminSessionViewSet(ViewSet):
    def list(self, request: Request) -> Response:
        active, expand, size = _active_filter(request), _expand(request), _keyset_size(request)
        token = next((v for v in request.query_params.getlist("page_token") if v), None)
        queryset = services.sessions_matching(active=active)
        if "identity" in expand:
            queryset = queryset.select_related("identity")
        rows = services.sessions_after(queryset, token, size + 1)
        page, is_last = rows[:size], len(rows) <= size
        if "identity" in expand:
            services.load_addresses(s.identity for s in page)
        link = keyset_link_header(request, size=size, first_token=services.first_page_token(),
                                  next_token=None if is_last else services.page_token_of(page[-1]))
        body = [services.session_json(s, include_identity="identity" in expand, include_devices="devices" in expand)
                for s in page]
        return Response(body, headers={"Link": link})

    def retrieve(self, request: Request, pk: str) -> Response:
        if pk == "whoami":
            return _redirect(request, get_config().public.base_url)
        expand = _expand(request)
        session = services.get_session(parse_path_uuid(pk))
        body = services.session_json(session, include_identity="identity" in expand, include_devices="devices" in expand)
        # A single session starts from an empty device list in Kratos (lists leave it null).
        body["devices"] = body["devices"] or []
        return Response(body)

    def destroy(self, request: Request, pk: str) -> Response:
        services.revoke_session_by_id(parse_path_uuid(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def extend(self, request: Request, pk: str) -> Response:
        session = services.extend_session(parse_path_uuid(pk))
        if get_config().get("feature_flags.faster_session_extend"):
            return Response(status=status.HTTP_204_NO_CONTENT)
        # The legacy answer: the session re-read with its identity (Kratos ExpandDefault), devices empty.
        return Response(services.session_json(session, include_devices=False) | {"devices": []})

    def redirect_to_public(self, request: Request) -> HttpResponseRedirect:
        return _redirect(request, get_config().public.base_url)


class AdminIdentitySessionViewSet(ViewSet):
    def list(self, request: Request, pk: str) -> Response:
        identity_id, active = parse_path_uuid(pk), _active_filter(request)
        return _offset_page(request, services.identity_sessions(identity_id, active=active))

    def destroy(self, request: Request, pk: str) -> Response:
        services.delete_identity_sessions(parse_path_uuid(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
