"""`GET/DELETE /sessions` and `DELETE /sessions/{id}`: a signed-in caller managing its other sessions."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import pytest

from kratos_project import clock
from sessions_app.models import Session
from sessions_app.services import revoke_session
from tests.sessions.helpers import link_params, no_session_body

pytestmark = pytest.mark.django_db
NO_COOKIE = "No valid session cookie found."


def _offset_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": str(offset), "v": 2}, separators=(",", ":")).encode()).decode().rstrip("=")


@pytest.fixture
def caller(sign_in):
    """The caller's session and token, plus four other sessions of the same identity, oldest first."""
    current, token = sign_in()
    others = []
    for _ in range(4):
        clock.advance(timedelta(seconds=1))
        others.append(sign_in(current.identity)[0])
    return current, token, others


def test_lists_the_other_active_sessions_newest_first_with_identity_and_devices(public_api, caller, sign_in):
    current, token, others = caller
    revoke_session(others[0])
    sign_in()  # another identity's session

    response = public_api.call("GET", "/sessions", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body] == [str(s.id) for s in reversed(others[1:])]
    assert response["X-Total-Count"] == "3"
    assert all(s["active"] and s["identity"]["id"] == str(current.identity_id) for s in body)
    assert body[0]["devices"][0]["ip_address"] == "203.0.113.7"
    assert body[0]["identity"]["verifiable_addresses"]


def test_a_page_that_holds_everything_links_only_first(public_api, caller):
    _, token, _ = caller

    response = public_api.call("GET", "/sessions", HTTP_X_SESSION_TOKEN=token)

    # ory/x sizes that single `first` link to the total.
    assert link_params(response) == {"first": {"page": "0", "page_size": "4", "page_token": _offset_token(0), "per_page": "4"}}


def test_legacy_pages_walk_the_list(public_api, caller):
    _, token, others = caller
    newest_first = [str(s.id) for s in reversed(others)]

    first = public_api.call("GET", "/sessions?per_page=3", HTTP_X_SESSION_TOKEN=token)
    second = public_api.call("GET", "/sessions?per_page=3&page=1", HTTP_X_SESSION_TOKEN=token)

    assert [s["id"] for s in first.json()] == newest_first[:3]
    assert [s["id"] for s in second.json()] == newest_first[3:]
    assert first["X-Total-Count"] == second["X-Total-Count"] == "4"
    # The first page links next and last only (no first), as ory/x does.
    assert link_params(first) == {
        "next": {"page": "1", "page_size": "3", "page_token": _offset_token(3), "per_page": "3"},
        "last": {"page": "1", "page_size": "3", "page_token": _offset_token(3), "per_page": "3"},
    }
    assert set(link_params(second)) == {"first", "prev"}


def test_token_pages_follow_thelink_params(public_api, caller):
    _, token, others = caller

    seen, query = [], "page_size=1"
    for _ in range(4):
        response = public_api.call("GET", f"/sessions?{query}", HTTP_X_SESSION_TOKEN=token)
        seen += [s["id"] for s in response.json()]
        if "next" not in link_params(response):
            break
        query = "page_size=1&page_token=" + link_params(response)["next"]["page_token"]

    assert seen == [str(s.id) for s in reversed(others)]


def test_an_unreadable_page_token_means_the_first_page(public_api, caller):
    _, token, others = caller

    response = public_api.call("GET", "/sessions?page_size=2&page_token=%%%", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200 and response.json()[0]["id"] == str(others[-1].id)


def test_listing_without_a_session_is_the_id_less_401(public_api, caller):
    response = public_api.call("GET", "/sessions")

    assert response.status_code == 401 and response.json() == no_session_body(NO_COOKIE)


def test_revoking_all_others_counts_them_and_keeps_the_current_one(public_api, caller):
    current, token, others = caller

    response = public_api.call("DELETE", "/sessions", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200 and response.json() == {"count": 4}
    assert not Session.objects.filter(id__in=[s.id for s in others], active=True).exists()
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 200
    assert public_api.call("GET", "/sessions", HTTP_X_SESSION_TOKEN=token).json() == []


def test_revoking_all_others_leaves_other_identities_alone(public_api, caller, sign_in):
    _, token, _ = caller
    stranger, stranger_token = sign_in()

    public_api.call("DELETE", "/sessions", HTTP_X_SESSION_TOKEN=token)

    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=stranger_token).status_code == 200


def test_revoke_one_other_session(public_api, caller):
    _, token, others = caller

    response = public_api.call("DELETE", f"/sessions/{others[0].id}", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 204 and response.content == b""
    others[0].refresh_from_db()
    assert others[0].active is False
    assert len(public_api.call("GET", "/sessions", HTTP_X_SESSION_TOKEN=token).json()) == 3


def test_the_current_session_cannot_be_revoked_this_way(public_api, caller):
    current, token, _ = caller

    response = public_api.call("DELETE", f"/sessions/{current.id}", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "status": "Bad Request", "message": "cannot revoke current session"}}


def test_another_identitys_session_is_not_touched(public_api, caller, sign_in):
    _, token, _ = caller
    stranger, stranger_token = sign_in()

    response = public_api.call("DELETE", f"/sessions/{stranger.id}", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 204  # as Kratos: nothing reveals whether the id exists
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=stranger_token).status_code == 200


def test_revoke_one_needs_a_session_and_a_uuid(public_api, caller):
    _, token, _ = caller

    anonymous = public_api.call("DELETE", f"/sessions/{uuid.uuid4()}")
    malformed = public_api.call("DELETE", "/sessions/not-a-uuid", HTTP_X_SESSION_TOKEN=token)

    assert anonymous.status_code == 401 and anonymous.json() == no_session_body(NO_COOKIE)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["message"] == 'uuid: incorrect UUID length 10 in string "not-a-uuid"'
