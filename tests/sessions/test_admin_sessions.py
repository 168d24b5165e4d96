"""The admin session API: list (keyset), get, revoke, extend, and an identity's sessions."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta

import pytest

from identities.models import Network
from identities.services import IdentityDraft, create_identity
from kratos_project import clock
from kratos_project.tenancy import bind_network
from sessions_app.services import issue_session, revoke_session
from tests.sessions.helpers import link_params

pytestmark = pytest.mark.django_db
NOT_FOUND = {"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}}


def _decode(token: str) -> str:
    return base64.b64decode(token + "=" * (-len(token) % 4)).decode()


@pytest.fixture
def sessions(sign_in):
    """Five sessions created a second apart, oldest first; the second is revoked, the third expired."""
    made = []
    for _ in range(5):
        made.append(sign_in()[0])
        clock.advance(timedelta(seconds=1))
    revoke_session(made[1])
    made[2].expires_at = clock.now() - timedelta(seconds=1)
    made[2].save()
    return made


def test_list_is_newest_first_and_hides_identity_and_devices_unless_expanded(admin_api, sessions):
    response = admin_api.call("GET", "/admin/sessions")

    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body] == [str(s.id) for s in reversed(sessions)]
    assert all(s["identity"] is None and s["devices"] is None for s in body)
    assert [s["active"] for s in body] == [True, True, False, False, True]
    assert "X-Total-Count" not in response
    [first] = link_params(response).values()
    assert _decode(first["page_token"]) == "id=00000000-0000-0000-0000-000000000000/created_at=2200-12-31 23:59:59"
    assert first["page_size"] == "250"


def test_expand_identity_and_devices(admin_api, sessions):
    body = admin_api.call("GET", "/admin/sessions?expand=identity&expand=Devices").json()

    assert body[0]["identity"]["id"] == str(sessions[-1].identity_id)
    assert "credentials" not in body[0]["identity"] and "metadata_admin" not in body[0]["identity"]
    assert body[0]["devices"][0]["ip_address"] == "203.0.113.7"


def test_keyset_pages_walk_every_session_once(admin_api, sessions):
    seen, url = [], "/admin/sessions?page_size=2"
    while url:
        response = admin_api.call("GET", url)
        assert response.status_code == 200
        seen += [s["id"] for s in response.json()]
        links = link_params(response)
        url = f"/admin/sessions?page_size=2&page_token={links['next']['page_token']}" if "next" in links else None

    assert seen == [str(s.id) for s in reversed(sessions)]


def test_sessions_created_in_the_same_instant_are_paged_by_id(admin_api, sign_in):
    made = [sign_in()[0] for _ in range(4)]  # the clock does not move between them

    seen, url = [], "/admin/sessions?page_size=1"
    while url:
        response = admin_api.call("GET", url)
        seen += [s["id"] for s in response.json()]
        links = link_params(response)
        url = f"/admin/sessions?page_size=1&page_token={links['next']['page_token']}" if "next" in links else None

    assert sorted(seen) == sorted(str(s.id) for s in made) and len(seen) == 4


def test_active_filter(admin_api, sessions):
    active = admin_api.call("GET", "/admin/sessions?active=true").json()
    inactive = admin_api.call("GET", "/admin/sessions?active=false").json()

    assert {s["id"] for s in active} == {str(sessions[i].id) for i in (0, 3, 4)}
    assert {s["id"] for s in inactive} == {str(sessions[i].id) for i in (1, 2)}


@pytest.mark.parametrize(("query", "error"), [
    ("active=maybe", {"message": "could not parse parameter active"}),
    ("page_size=ten", {"message": "could not parse parameter page_size"}),
    ("page_token=%21%21%21", {"message": "could not parse parameter page_size"}),
    ("page_token=" + base64.b64encode(b"id=nope/created_at=2024-01-01 00:00:00").decode().rstrip("="),
     {"reason": "The page token is invalid, do not craft your own page tokens",
      "message": "The request was malformed or contained invalid parameters"}),
    ("expand=credentials", {"reason": "Could not parse expand option: credentials",
                            "message": "The request was malformed or contained invalid parameters"}),
])
def test_bad_list_parameters_are_400(admin_api, sessions, query, error):
    response = admin_api.call("GET", f"/admin/sessions?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "status": "Bad Request", **error}}


def test_get_one_session(admin_api, sessions):
    newest = sessions[-1]

    plain = admin_api.call("GET", f"/admin/sessions/{newest.id}").json()
    expanded = admin_api.call("GET", f"/admin/sessions/{newest.id}?expand=identity&expand=devices").json()

    assert plain["id"] == str(newest.id) and plain["active"] is True
    assert plain["identity"] is None and plain["devices"] == []
    assert expanded["identity"]["id"] == str(newest.identity_id) and len(expanded["devices"]) == 1
    assert admin_api.call("GET", f"/admin/sessions/{sessions[2].id}").json()["active"] is False  # expired


def test_get_unknown_or_malformed_session(admin_api, sessions):
    unknown = admin_api.call("GET", f"/admin/sessions/{uuid.uuid4()}")
    malformed = admin_api.call("GET", "/admin/sessions/abc")
    bad_expand = admin_api.call("GET", f"/admin/sessions/{sessions[0].id}?expand=invalid")

    assert unknown.status_code == 404 and unknown.json() == NOT_FOUND
    assert malformed.status_code == 400
    assert malformed.json()["error"]["message"] == 'uuid: incorrect UUID length 3 in string "abc"'
    assert bad_expand.status_code == 400


def test_revoke_by_id(admin_api, public_api, sign_in):
    session, token = sign_in()

    response = admin_api.call("DELETE", f"/admin/sessions/{session.id}")

    assert response.status_code == 204
    assert admin_api.call("GET", f"/admin/sessions/{session.id}").json()["active"] is False
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert admin_api.call("DELETE", f"/admin/sessions/{uuid.uuid4()}").json() == NOT_FOUND


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_extend_sets_a_full_lifespan_from_now(admin_api, public_api, sign_in):
    session, token = sign_in()
    clock.advance(timedelta(hours=23, minutes=30))

    response = admin_api.call("PATCH", f"/admin/sessions/{session.id}/extend")

    assert response.status_code == 200
    body = response.json()
    assert _time(body["expires_at"]) - clock.now() > timedelta(hours=23, minutes=59)
    assert body["identity"]["id"] == str(session.identity_id) and body["devices"] == []
    clock.advance(timedelta(hours=1))
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 200


def test_extend_waits_for_earliest_possible_extend(admin_api, sign_in, kratos_env):
    kratos_env(SESSION_EARLIEST_POSSIBLE_EXTEND="1h")
    session, _ = sign_in()
    clock.advance(timedelta(hours=22))

    too_early = admin_api.call("PATCH", f"/admin/sessions/{session.id}/extend").json()
    clock.advance(timedelta(hours=1, seconds=1))
    in_window = admin_api.call("PATCH", f"/admin/sessions/{session.id}/extend").json()

    assert _time(too_early["expires_at"]) == session.expires_at  # more than 1h left: unchanged
    assert _time(in_window["expires_at"]) - clock.now() > timedelta(hours=23, minutes=59)


def test_extend_with_faster_session_extend_answers_204(admin_api, sign_in, kratos_env):
    kratos_env(FEATURE_FLAGS_FASTER_SESSION_EXTEND="true")
    session, _ = sign_in()
    clock.advance(timedelta(hours=1))

    response = admin_api.call("PATCH", f"/admin/sessions/{session.id}/extend")

    assert response.status_code == 204
    session.refresh_from_db()
    assert session.expires_at - clock.now() > timedelta(hours=23, minutes=59)


def test_extend_unknown_session(admin_api, sessions):
    response = admin_api.call("PATCH", f"/admin/sessions/{uuid.uuid4()}/extend")

    assert response.status_code == 404 and response.json() == NOT_FOUND


def test_identity_sessions_list_with_active_filter_and_pagination(admin_api, sign_in):
    first, _ = sign_in()
    identity = first.identity
    clock.advance(timedelta(seconds=1))
    second, _ = sign_in(identity)
    clock.advance(timedelta(seconds=1))
    third, _ = sign_in(identity)
    revoke_session(second)
    sign_in()  # someone else's
    base = f"/admin/identities/{identity.id}/sessions"

    everything = admin_api.call("GET", base)
    active = admin_api.call("GET", f"{base}?active=true").json()
    inactive = admin_api.call("GET", f"{base}?active=false").json()
    paged = admin_api.call("GET", f"{base}?per_page=2&page=1")

    assert [s["id"] for s in everything.json()] == [str(third.id), str(second.id), str(first.id)]
    assert everything["X-Total-Count"] == "3"
    assert everything.json()[0]["identity"]["id"] == str(identity.id) and everything.json()[0]["devices"]
    assert [s["id"] for s in active] == [str(third.id), str(first.id)]
    assert [s["id"] for s in inactive] == [str(second.id)]
    assert [s["id"] for s in paged.json()] == [str(first.id)] and set(link_params(paged)) == {"first", "prev"}


def test_identity_sessions_pages_beyond_any_integer(admin_api, sign_in):
    """As ory/x reads them: a page Go cannot parse is the first, one past the end is empty (never a
    database overflow: schemathesis found the 500)."""
    session, _ = sign_in()
    base = f"/admin/identities/{session.identity_id}/sessions"
    far_token = base64.urlsafe_b64encode(b'{"offset":"99999999999999999999999","v":2}').decode()

    unparsable = admin_api.call("GET", f"{base}?page=9223372036854775808")
    furthest = admin_api.call("GET", f"{base}?page=9223372036854775807&per_page=1000")
    far = admin_api.call("GET", f"{base}?page_token={far_token}")

    assert [s["id"] for s in unparsable.json()] == [str(session.id)]
    assert furthest.status_code == 200 and furthest.json() == []
    assert far.status_code == 200 and far.json() == []


def test_identity_sessions_of_unknown_or_malformed_identity(admin_api, sessions):
    assert admin_api.call("GET", f"/admin/identities/{uuid.uuid4()}/sessions").json() == []
    assert admin_api.call("GET", "/admin/identities/nope/sessions").status_code == 400
    assert admin_api.call("GET", f"/admin/identities/{sessions[0].identity_id}/sessions?active=x").status_code == 400


def test_delete_identity_sessions(admin_api, public_api, sign_in):
    session, token = sign_in()
    sign_in(session.identity)
    path = f"/admin/identities/{session.identity_id}/sessions"

    response = admin_api.call("DELETE", path)

    assert response.status_code == 204
    assert admin_api.call("GET", path).json() == []
    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert admin_api.call("DELETE", path).json() == NOT_FOUND  # Kratos: nothing deleted is a 404


def test_both_admin_prefixes_serve_sessions(admin_api, sessions):
    assert admin_api.call("GET", "/sessions").json() == admin_api.call("GET", "/admin/sessions").json()


def test_cross_port_redirects(admin_api, public_api):
    whoami = admin_api.call("GET", "/admin/sessions/whoami?tokenize_as=x")
    delete_mine = admin_api.call("DELETE", "/admin/sessions")
    delete_identitys = public_api.call("DELETE", "/admin/identities/abc/sessions")

    assert (whoami.status_code, whoami["Location"]) == (307, "http://127.0.0.1:4433/sessions/whoami?tokenize_as=x")
    assert (delete_mine.status_code, delete_mine["Location"]) == (307, "http://127.0.0.1:4433/sessions")
    assert delete_identitys.status_code == 307
    assert delete_identitys["Location"] == "http://127.0.0.1:4434/admin/identities/abc/sessions"


@pytest.fixture
def foreign_session(db):
    """A session (and its token) in a second network."""
    with bind_network(Network.objects.create().id):
        identity = create_identity(IdentityDraft(schema_id="default", traits={"email": "ada@example.org"}))
        return issue_session(identity, method="password")


def test_sessions_of_another_network_are_invisible(admin_api, public_api, foreign_session, sign_in):
    session, token = foreign_session
    mine, _ = sign_in()
    base = f"/admin/sessions/{session.id}"

    assert public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert [s["id"] for s in admin_api.call("GET", "/admin/sessions").json()] == [str(mine.id)]
    assert admin_api.call("GET", base).status_code == 404
    assert admin_api.call("DELETE", base).status_code == 404
    assert admin_api.call("PATCH", f"{base}/extend").status_code == 404
    assert admin_api.call("GET", f"/admin/identities/{session.identity_id}/sessions").json() == []
    assert admin_api.call("DELETE", f"/admin/identities/{session.identity_id}/sessions").status_code == 404
    session.refresh_from_db()
    assert session.active is True
