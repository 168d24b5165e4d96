"""Helpers shared by the session tests."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.http import HttpResponse

from sessions_app.cookies import cookie_name, set_session_cookie
from sessions_app.models import Session


def cookie_value(session: Session, token: str) -> str:
    """The `ory_kratos_session` value a browser would hold for this session."""
    response = HttpResponse()
    set_session_cookie(response, session, token)
    return response.cookies[cookie_name()].value


def no_session_body(reason: str = "No valid session credentials found in the request.") -> dict[str, Any]:
    return {"error": {"code": 401, "status": "Unauthorized", "reason": reason,
                      "message": "The request could not be authorized"}}


def link_params(response: Any) -> dict[str, dict[str, str]]:
    """A `Link` header as rel -> that link's query parameters."""
    links = {}
    for part in response["Link"].split(","):
        target, rel = part.split(";")
        query = parse_qs(urlsplit(target.strip()[1:-1]).query)
        links[rel.strip().removeprefix('rel="').removesuffix('"')] = {k: v[0] for k, v in query.items()}
    return links
