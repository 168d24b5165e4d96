"""How a flow answers each kind of client (reference §4.3): HTML browsers get 303 redirects, JSON
clients (SPAs, SDKs) get the flow or the result as JSON, errors as Kratos envelopes."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from kratos_project.errors import KratosError, as_kratos_error, error_response
from selfservice.api.serializers import flow_json
from selfservice.errors import FlowExpired
from selfservice.models import Flow, FlowError
from selfservice.negotiation import is_json_request
from selfservice.redirects import ui_url

logger = logging.getLogger("kratos.selfservice")


class SeeOther(HttpResponseRedirect):
    status_code = 303


def wants_html(request: HttpRequest, flow: Flow | None = None) -> bool:
    """A browser flow answered to a plain HTML client (api flows are always JSON)."""
    return not (flow is not None and flow.is_api) and not is_json_request(request)


def json_ok(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False, content_type="application/json; charset=utf-8")


def with_query(url: str, **params: Any) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def show_flow(request: HttpRequest, flow: Flow, ui_url: str, status: int = 400) -> HttpResponse:
    """The flow again (validation errors, a next step): 303 to its UI, or the flow JSON."""
    if wants_html(request, flow):
        return SeeOther(with_query(ui_url, flow=flow.id))
    return json_ok(flow_json(flow), status=status)


def error_for(request: HttpRequest, error: Exception, ui_url: str, flow: Flow | None = None) -> HttpResponse:
    """An error during a flow: the envelope for JSON clients; for HTML browsers the replacement
    flow (expired) or the error UI showing a stored error container."""
    kratos_error = as_kratos_error(error)
    if not wants_html(request, flow):
        return error_response(kratos_error)
    if isinstance(kratos_error, FlowExpired) and kratos_error.replacement_id:
        return SeeOther(with_query(ui_url, flow=kratos_error.replacement_id))
    return SeeOther(with_query(error_ui_url(), id=store_error(kratos_error)))


def store_error(error: KratosError) -> Any:
    return FlowError.objects.create(error=error.body()["error"]).id


def error_ui_url() -> str:
    return ui_url("error")
