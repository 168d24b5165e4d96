"""Sessions in the operator console (Django admin on the admin port), through HTTP."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from identities.models import Identity, Network
from identities.services import IdentityDraft, create_identity
from kratos_project import clock
from kratos_project.surfaces import SURFACE_KEY
from kratos_project.tenancy import bind_network
from sessions_app.models import Session
from sessions_app.services import issue_session
from tests.console import listed, shown_messages
from tests.sessions.helpers import no_session_body

pytestmark = pytest.mark.django_db

CHANGELIST = "/console/sessions_app/session/"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 with a long tail of details"


def whoami(token: str) -> int:
    return Client(**{SURFACE_KEY: "public"}).get("/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code


@pytest.fixture
def ada(identity_factory):
    return Identity.objects.get(id=identity_factory(traits={"email": "ada@example.org"},
                                                    password="correct horse battery staple")["id"])


def test_list_shows_identity_state_and_newest_device(console, sign_in, ada):
    session, _ = sign_in(ada, HTTP_USER_AGENT=FIREFOX, HTTP_CF_IPCITY="Berlin", HTTP_CF_IPCOUNTRY="DE")

    response = console.get(CHANGELIST)

    assert listed(response) == {str(session.id)}
    headers = [column["text"] for column in response.context["result_headers"]][1:]  # after the checkbox
    assert headers == ["id", "Identity", "Active", "aal", "authenticated at", "expires at", "Devices"]
    html = response.content.decode()
    assert f'<a href="/console/identities/identity/{ada.id}/change/">ada@example.org</a>' in html
    assert f"<td class=\"field-devices_summary\">203.0.113.7 · Berlin, DE · {FIREFOX[:59]}…</td>" in html
    assert 'alt="True"' in html and "aal1" in html
    assert session.token_hash not in html


def test_a_session_used_from_several_devices_lists_the_newest(console, sign_in, ada):
    session, _ = sign_in(ada, HTTP_USER_AGENT="curl/8.5.0")
    # A refreshed sign-in adds a device to the session (Kratos's `Session.SetSessionDeviceInformation`).
    laptop = {"id": "5d2ee4b5-54f3-4bd6-9d4c-6a0c0d5d6e1a", "ip_address": "198.51.100.4", "user_agent": "Safari",
              "location": ""}
    Session.objects.filter(id=session.id).update(devices=[*session.devices, laptop])

    listing = console.get(CHANGELIST).content.decode()
    detail = console.get(f"{CHANGELIST}{session.id}/change/").content.decode()

    assert '<td class="field-devices_summary">198.51.100.4 · Safari (+1 more)</td>' in listing
    assert "<td>203.0.113.7</td><td></td><td>curl/8.5.0</td>" in detail
    assert "<td>198.51.100.4</td><td></td><td>Safari</td>" in detail


def test_search_by_identity_id_identifier_or_session_id(console, sign_in, ada, identity_factory):
    first, _ = sign_in(ada)
    second, _ = sign_in(ada)
    grace = Identity.objects.get(id=identity_factory(traits={"email": "grace@example.org"})["id"])
    other, _ = sign_in(grace)

    assert listed(console.get(CHANGELIST, {"q": str(ada.id)})) == {str(first.id), str(second.id)}
    assert listed(console.get(CHANGELIST, {"q": " ADA@Exam"})) == {str(first.id), str(second.id)}
    assert listed(console.get(CHANGELIST, {"q": "grace@example.org"})) == {str(other.id)}
    assert listed(console.get(CHANGELIST, {"q": str(second.id)})) == {str(second.id)}
    assert listed(console.get(CHANGELIST, {"q": "example.org"})) == set()  # a prefix, not a substring


def test_active_filter_reads_revocation_and_expiry_and_aal_filter(console, sign_in, ada):
    expired, _ = sign_in(ada)
    clock.advance(timedelta(hours=25))  # past the default 24h lifespan
    revoked, _ = sign_in(ada)
    Session.objects.filter(id=revoked.id).update(active=False)
    current, _ = sign_in(ada)
    stepped_up, _ = sign_in(ada)
    Session.objects.filter(id=stepped_up.id).update(aal="aal2")  # as a second factor would

    assert listed(console.get(CHANGELIST, {"active": "true"})) == {str(current.id), str(stepped_up.id)}
    assert listed(console.get(CHANGELIST, {"active": "false"})) == {str(expired.id), str(revoked.id)}
    assert listed(console.get(CHANGELIST, {"aal__exact": "aal2"})) == {str(stepped_up.id)}
    assert listed(console.get(CHANGELIST, {"active": "true", "q": "ada@"})) == {str(current.id), str(stepped_up.id)}
    html = console.get(CHANGELIST, {"active": "false"}).content.decode()
    assert 'alt="True"' not in html and 'alt="False"' in html


def test_revoke_action_ends_the_session_for_whoami(console, sign_in, ada):
    revoked, token = sign_in(ada)
    kept, kept_token = sign_in(ada)
    assert whoami(token) == 200

    response = console.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(revoked.id)]}, follow=True)

    assert shown_messages(response) == ["1 sessions revoked."]
    reply = Client(**{SURFACE_KEY: "public"}).get("/sessions/whoami", HTTP_X_SESSION_TOKEN=token)
    assert reply.status_code == 401 and reply.json() == no_session_body()
    assert whoami(kept_token) == 200
    # Revoked through the service: the row stays, inactive, and lists as such.
    assert Session.objects.get(id=revoked.id).active is False
    assert listed(console.get(CHANGELIST, {"active": "false"})) == {str(revoked.id)}
    assert LogEntry.objects.get(object_id=str(revoked.id)).change_message == "Revoked."


def test_detail_is_read_only_and_shows_methods_and_devices(console, sign_in, ada):
    session, _ = sign_in(ada, HTTP_USER_AGENT=FIREFOX)
    page = f"{CHANGELIST}{session.id}/change/"

    response = console.get(page)
    post = console.post(page, {"active": "", "aal": "aal2"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>password</td><td>aal1</td>" in html
    assert f"<td>203.0.113.7</td><td></td><td>{FIREFOX}</td>" in html
    assert session.token_hash not in html
    assert post.status_code == 403
    assert console.get(f"{CHANGELIST}add/").status_code == 403
    assert console.post(f"{CHANGELIST}{session.id}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in console.get(CHANGELIST).content.decode()
    refreshed = Session.objects.get(id=session.id)
    assert (refreshed.active, refreshed.aal) == (True, "aal1")


def test_identity_page_lists_its_sessions_and_links_to_them(console, sign_in, ada, identity_factory):
    older, _ = sign_in(ada)
    newer, _ = sign_in(ada)
    grace = Identity.objects.get(id=identity_factory(traits={"email": "grace@example.org"})["id"])
    theirs, _ = sign_in(grace)

    html = console.get(f"/console/identities/identity/{ada.id}/change/").content.decode()
    section = html[html.index("field-sessions_table"):]

    assert section.index(str(newer.id)) < section.index(str(older.id))  # newest first
    assert f'<a href="{CHANGELIST}{older.id}/change/">{older.id}</a>' in section
    assert f'<a href="{CHANGELIST}?q={ada.id}">All sessions of this identity</a>' in section
    assert str(theirs.id) not in html
    assert "No sessions." in console.get(
        f"/console/identities/identity/{identity_factory()['id']}/change/").content.decode()


def test_revoke_all_sessions_of_an_identity(console, sign_in, ada, identity_factory):
    tokens = [sign_in(ada)[1] for _ in range(3)]
    grace = Identity.objects.get(id=identity_factory(traits={"email": "grace@example.org"})["id"])
    _, graces = sign_in(grace)

    response = console.post("/console/identities/identity/",
                            {"action": "revoke_sessions", "_selected_action": [str(ada.id)]}, follow=True)

    assert shown_messages(response) == ["Revoked the sessions of 1 identities."]
    assert [whoami(token) for token in tokens] == [401, 401, 401]
    assert whoami(graces) == 200
    assert Identity.objects.get(id=ada.id).state == "active"  # only the sessions end
    assert LogEntry.objects.get(object_id=str(ada.id)).change_message == "Revoked all sessions."


def test_sessions_of_another_network_are_invisible(console, sign_in, ada):
    ours, _ = sign_in(ada)
    other = Network.objects.create()
    with bind_network(other.id):
        namesake = create_identity(IdentityDraft(traits={"email": "ada@example.org"}))
        theirs, token = issue_session(namesake, method="password")

    assert listed(console.get(CHANGELIST)) == {str(ours.id)}
    assert listed(console.get(CHANGELIST, {"q": "ada@example.org"})) == {str(ours.id)}
    assert listed(console.get(CHANGELIST, {"q": str(namesake.id)})) == set()
    change = console.get(f"{CHANGELIST}{theirs.id}/change/")
    assert change.status_code == 302 and change["Location"] == "/console/"
    console.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(theirs.id)]})
    console.post("/console/identities/identity/", {"action": "revoke_sessions",
                                                   "_selected_action": [str(namesake.id)]})
    assert Session.all_networks.get(id=theirs.id).active is True
