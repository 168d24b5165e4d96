"""Logout (Kratos `selfservice/flow/logout`): browser logout URLs, browser logout, native logout."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest

from kratos_project.config import get_config
from kratos_project.errors import BadRequest, NoSessionFound
from selfservice.errors import Forbidden, SessionInactive
from selfservice.redirects import default_return_url, secure_return_to
from sessions_app.models import Session
from sessions_app.services import revoke_session, session_and_token_from_request
from sessions_app.tokens import logout_token_for, token_hash


@dataclass(frozen=True)
class LogoutUrl:
    logout_url: str
    logout_token: str


def create_logout_url(request: HttpRequest) -> LogoutUrl:
    found = session_and_token_from_request(request)
    if found is None:
        raise SessionInactive()
    _, token = found
    logout_token = logout_token_for(token)
    params = {"token": logout_token}
    if return_to := secure_return_to(request.GET.get("return_to", "")):
        params["return_to"] = return_to
    return LogoutUrl(f"{get_config().public.base_url}self-service/logout?{urlencode(params)}", logout_token)


def logout_browser(request: HttpRequest) -> str:
    """End the cookie's session if the URL's token is its logout token; returns where to go next."""
    expected = request.GET.get("token", "")
    if not expected:
        raise BadRequest("Please include a token in the URL query.")
    found = session_and_token_from_request(request)
    if found is None:
        raise NoSessionFound()
    session, token = found
    if not hmac.compare_digest(logout_token_for(token).encode(), expected.encode()):
        raise Forbidden("Unable to log out because the logout token in the URL query does not match the session cookie.")
    revoke_session(session)
    return secure_return_to(request.GET.get("return_to", "")) or default_return_url("logout")


def logout_api(session_token: object) -> Session:
    if not isinstance(session_token, str) or not session_token:
        raise BadRequest("The request body must contain a `session_token`.")
    # Kratos revokes by token whatever the session's state: an expired or revoked token still gets a 204.
    session = Session.objects.filter(token_hash=token_hash(session_token)).first()
    if session is None:
        raise Forbidden("The provided Ory Session Token could not be found, is invalid, or otherwise malformed.")
    revoke_session(session)
    return session
