"""The operator console (Django admin on the admin port) through HTTP, as an operator uses it."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from identities.models import Identity, Network
from identities.services import IdentityDraft, create_identity
from kratos_project import clock
from kratos_project.surfaces import SURFACE_KEY
from kratos_project.tenancy import bind_network
from selfservice.models import RecoveryFlow
from sessions_app.cookies import cookie_name
from tests.console import listed, shown_messages
from tests.selfservice.conftest import HTML

pytestmark = pytest.mark.django_db

CHANGELIST = "/console/identities/identity/"


def change_page(identity_id: str) -> str:
    return f"{CHANGELIST}{identity_id}/change/"


def test_changelist_shows_the_columns_and_the_primary_identifier(console, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org"}, schema_id="customer")

    response = console.get(CHANGELIST)

    assert listed(response) == {ada["id"]}
    headers = [column["text"] for column in response.context["result_headers"]][1:]  # after the checkbox
    assert headers == ["id", "Primary identifier", "schema id", "state", "created at"]
    row = response.content.decode()
    assert "ada@example.org" in row and "customer" in row and "Active" in row


def test_search_by_identifier_matches_exact_and_prefix_case_insensitively(console, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org"})
    grace = identity_factory(traits={"email": "grace@example.org"})

    assert listed(console.get(CHANGELIST, {"q": "ada@example.org"})) == {ada["id"]}
    # Identifiers are stored normalised (lower-cased); the operator's spelling is normalised too.
    assert listed(console.get(CHANGELIST, {"q": "  ADA@exam"})) == {ada["id"]}
    assert listed(console.get(CHANGELIST, {"q": "grace@"})) == {grace["id"]}


def test_search_finds_identifiers_that_are_not_in_the_traits(console, identity_factory):
    linked = identity_factory(credentials={"oidc": {"config": {"providers": [
        {"provider": "github", "subject": "4711"}]}}})
    identity_factory()

    assert listed(console.get(CHANGELIST, {"q": "github:47"})) == {linked["id"]}
    assert listed(console.get(CHANGELIST, {"q": "github:4711"})) == {linked["id"]}
    assert listed(console.get(CHANGELIST, {"q": "hub:4711"})) == set()  # prefix, not substring


def test_search_by_trait_is_case_insensitive_and_handles_non_ascii(console, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org", "name": {"first": "Zoë", "last": "Lovelace"}})
    identity_factory(traits={"email": "grace@example.org", "name": {"first": "Grace", "last": "Hopper"}})

    assert listed(console.get(CHANGELIST, {"q": "lovelace"})) == {ada["id"]}
    assert listed(console.get(CHANGELIST, {"q": "Zoë"})) == {ada["id"]}
    assert listed(console.get(CHANGELIST, {"q": "babbage"})) == set()


def test_filters_by_state_and_schema(console, identity_factory):
    active = identity_factory()
    inactive = identity_factory(state="inactive")
    customer = identity_factory(schema_id="customer")

    assert listed(console.get(CHANGELIST, {"state__exact": "inactive"})) == {inactive["id"]}
    assert listed(console.get(CHANGELIST, {"state__exact": "active"})) == {active["id"], customer["id"]}
    assert listed(console.get(CHANGELIST, {"schema_id": "customer"})) == {customer["id"]}


def test_change_page_shows_traits_addresses_and_credential_types_but_never_the_hash(
    console, admin_api, identity_factory
):
    created = identity_factory(
        traits={"email": "ada@example.org", "name": {"first": "Ada"}},
        password="correct horse battery staple",
        metadata_public={"plan": "pro"},
        metadata_admin={"crm_id": 42},
        verifiable_addresses=[{"value": "ada@example.org", "via": "email", "verified": True, "status": "completed"}],
    )
    hashed = admin_api.call("GET", f"/admin/identities/{created['id']}?include_credential=password").json()[
        "credentials"]["password"]["config"]["hashed_password"]

    response = console.get(change_page(created["id"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert '&quot;first&quot;: &quot;Ada&quot;' in html  # pretty-printed traits, escaped
    assert "<td>ada@example.org</td><td>email</td>" in html  # verifiable and recovery address rows
    assert 'alt="True"' in html and "<td>completed</td>" in html
    assert "<td>password</td><td>ada@example.org</td>" in html
    assert "&quot;plan&quot;: &quot;pro&quot;" in html and "&quot;crm_id&quot;: 42" in html
    assert hashed.startswith("$2a$") and hashed not in html
    assert hashed[-31:] not in html and "hashed_password" not in html


def test_change_page_is_read_only_and_nothing_is_added(console, network, identity_factory):
    created = identity_factory(traits={"email": "ada@example.org"})

    page = console.get(change_page(created["id"]))
    assert page.status_code == 200 and "<input" not in _form_fields(page)
    post = console.post(change_page(created["id"]), {"schema_id": "customer", "state": "inactive"})
    add = console.get(f"{CHANGELIST}add/")

    assert post.status_code == 403 and add.status_code == 403
    identity = Identity.objects.get(id=created["id"])
    assert (identity.schema_id, identity.state) == ("default", "active")


def test_deactivate_and_activate_actions_go_through_the_service(console, network, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org"})
    grace = identity_factory(traits={"email": "grace@example.org"})
    clock.advance(timedelta(days=3))

    response = console.post(CHANGELIST, {"action": "deactivate", "_selected_action": [ada["id"]]})

    assert response.status_code == 302
    deactivated = Identity.objects.get(id=ada["id"])
    untouched = Identity.objects.get(id=grace["id"])
    # The service stamps state_changed_at from the clock; a bare row update would not.
    assert deactivated.state == "inactive" and deactivated.state_changed_at >= clock.now() - timedelta(minutes=1)
    assert untouched.state == "active"
    assert LogEntry.objects.get(object_id=ada["id"]).change_message == "Set state to inactive."

    console.post(CHANGELIST, {"action": "activate", "_selected_action": [ada["id"]]})

    assert Identity.objects.get(id=ada["id"]).state == "active"


def test_delete_action_and_delete_page_remove_the_identity(console, admin_api, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org"}, password="correct horse battery staple")
    grace = identity_factory(traits={"email": "grace@example.org"})
    kept = identity_factory(traits={"email": "kept@example.org"})

    confirm = console.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [ada["id"]]})
    assert confirm.status_code == 200 and "Are you sure" in confirm.content.decode()
    deleted = console.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [ada["id"]], "post": "yes"})
    from_page = console.post(f"{CHANGELIST}{grace['id']}/delete/", {"post": "yes"})

    assert deleted.status_code == 302 and from_page.status_code == 302
    assert admin_api.call("GET", f"/admin/identities/{ada['id']}").status_code == 404
    assert admin_api.call("GET", f"/admin/identities/{grace['id']}").status_code == 404
    assert admin_api.call("GET", f"/admin/identities/{kept['id']}").status_code == 200
    # The identifier is free again: its credential rows went with the identity.
    assert admin_api.call("POST", "/admin/identities", {"traits": {"email": "ada@example.org"}}).status_code == 201


def test_identities_of_another_network_are_invisible(console, identity_factory):
    ours = identity_factory(traits={"email": "ada@example.org"})
    other = Network.objects.create()
    with bind_network(other.id):
        theirs = create_identity(IdentityDraft(traits={"email": "ada@example.org"}, schema_id="customer"))

    assert listed(console.get(CHANGELIST)) == {ours["id"]}
    assert listed(console.get(CHANGELIST, {"q": "ada@example.org"})) == {ours["id"]}
    assert "schema_id=customer" not in console.get(CHANGELIST).content.decode()  # filter choices too
    change = console.get(change_page(str(theirs.id)))
    assert change.status_code == 302 and change["Location"] == "/console/"
    # A crafted action on their id selects nothing from this network's queryset.
    console.post(CHANGELIST, {"action": "deactivate", "_selected_action": [str(theirs.id)]})
    with bind_network(other.id):
        assert Identity.objects.get(id=theirs.id).state == "active"


# --- recovery links ------------------------------------------------------------------------------


@pytest.fixture
def recovery_enabled(kratos_env):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_ENABLED="true")


def _recovery_message(console: Client, identity_id: str) -> str:
    response = console.post(CHANGELIST, {"action": "send_recovery_link", "_selected_action": [identity_id]},
                            follow=True)
    [message] = shown_messages(response)
    return message


def _signed_in_as(browser: Client) -> str:
    return browser.get("/sessions/whoami", HTTP_ACCEPT="application/json").json()["identity"]["id"]


def test_recovery_link_is_shown_and_signs_its_opener_in(console, recovery_enabled, kratos_env, identity_factory):
    kratos_env(SELFSERVICE_METHODS_LINK_ENABLED="true")
    ada = identity_factory(traits={"email": "ada@example.org"}, password="correct horse battery staple")

    message = _recovery_message(console, ada["id"])
    link = re.search(r"http://127\.0\.0\.1:4433(/self-service/recovery\?flow=[0-9a-f-]{36}&token=\w{32})", message)
    browser = Client(**{SURFACE_KEY: "public"})
    opened = browser.get(link[1], HTTP_ACCEPT=HTML)
    again = Client(**{SURFACE_KEY: "public"}).get(link[1], HTTP_ACCEPT=HTML)

    assert message.startswith("Recovery for ada@example.org: http://127.0.0.1:4433/self-service/recovery?flow=")
    assert "(valid until " in message
    assert opened.status_code == 303 and cookie_name() in opened.cookies
    assert _signed_in_as(browser) == ada["id"]
    assert again.status_code == 303 and cookie_name() not in again.cookies  # a link works once
    assert LogEntry.objects.get(object_id=ada["id"]).change_message == "Created a recovery link."


def test_recovery_falls_back_to_a_code_while_links_are_disabled(console, recovery_enabled, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org"})

    message = _recovery_message(console, ada["id"])
    flow_id, code = re.search(r"flow=([0-9a-f-]{36}) with the code (\d{6}) ", message).groups()
    browser = Client(**{SURFACE_KEY: "public"})
    used = browser.post(f"/self-service/recovery?flow={flow_id}", {"method": "code", "code": code}, HTTP_ACCEPT=HTML)

    assert used.status_code == 303 and cookie_name() in used.cookies
    assert _signed_in_as(browser) == ada["id"]


@pytest.mark.parametrize(("variables", "refusal"), [
    ({}, "Recovery is disabled (selfservice.flows.recovery.enabled): no recovery link can be made."),
    ({"SELFSERVICE_FLOWS_RECOVERY_ENABLED": "true", "SELFSERVICE_METHODS_CODE_ENABLED": "false"},
     "Both recovery methods (link and code) are disabled: no recovery link can be made."),
])
def test_no_recovery_link_while_recovery_is_disabled(console, kratos_env, identity_factory, variables, refusal):
    kratos_env(**variables)
    ada = identity_factory(traits={"email": "ada@example.org"})

    response = console.post(CHANGELIST, {"action": "send_recovery_link", "_selected_action": [ada["id"]]},
                            follow=True)

    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [("error", refusal)]
    assert not RecoveryFlow.all_networks.exists() and not LogEntry.objects.exists()


# --- networks ------------------------------------------------------------------------------------


def test_networks_are_listed_read_only_across_the_installation(console, network):
    other = Network.objects.create()
    networks = "/console/identities/network/"

    response = console.get(networks)

    assert listed(response) == {str(network), str(other.id)}
    html = response.content.decode()
    assert html.count('alt="True"') == 1 and html.count('alt="False"') == 1  # only the default network
    assert console.post(f"{networks}{other.id}/change/", {}).status_code == 403
    assert console.get(f"{networks}add/").status_code == 403
    assert console.post(f"{networks}{other.id}/delete/", {"post": "yes"}).status_code == 403
    assert Network.objects.filter(id=other.id).exists()


# --- access ----------------------------------------------------------------------------------------

CONSOLE_PAGES = ["/console/", CHANGELIST, "/console/sessions_app/session/", "/console/courier/message/",
                 "/console/identities/network/"]


def test_console_requires_a_login():
    response = Client(**{SURFACE_KEY: "admin"}).get(CHANGELIST)

    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_accounts_that_are_not_staff_are_refused(path, django_user_model):
    client = Client(**{SURFACE_KEY: "admin"})
    client.force_login(django_user_model.objects.create_user("visitor", password="a long enough password"))

    response = client.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/console/login/?next=")


@pytest.mark.parametrize("path", CONSOLE_PAGES[1:])
def test_staff_need_the_model_permission(path, django_user_model):
    client = Client(**{SURFACE_KEY: "admin"})
    client.force_login(django_user_model.objects.create_user("helper", password="a long password", is_staff=True))

    assert client.get(path).status_code == 403


STYLESHEET = "/console/static/admin/css/base.css"


def test_console_names_itself_and_links_to_no_site(console):
    html = console.get("/console/").content.decode()

    assert "<title>Identities, sessions and courier messages | Operator console</title>" in html
    assert "View site" not in html


def test_console_serves_its_own_static_files_to_anyone():
    """The login page needs them before anyone signs in; they are Django's, nothing of ours."""
    response = Client(**{SURFACE_KEY: "admin"}).get(STYLESHEET)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/css" and "max-age=86400" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"/*")


@pytest.mark.parametrize("path", [
    "/console/static/admin/css/missing.css",
    "/console/static/admin/../../../../../../etc/passwd",
    "/console/static/admin/%2e%2e/%2e%2e/models.py",
    "/console/static//etc/passwd",
    "/console/static/kratos_project/settings.py",
])
def test_console_static_files_are_only_the_finders_files(path):
    assert Client(**{SURFACE_KEY: "admin"}).get(path).status_code == 404


@pytest.mark.parametrize("path", ["/console/login/", STYLESHEET, *CONSOLE_PAGES])
def test_console_is_not_on_the_public_surface(path, admin_user):
    client = Client(**{SURFACE_KEY: "public"})
    client.force_login(admin_user)

    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"error": {
        "code": 404, "status": "Not Found", "message": "The requested resource could not be found"}}


def _form_fields(response: Any) -> str:
    """The change form's fieldsets, without the CSRF token and the action bar."""
    html = response.content.decode()
    return html[html.index('<fieldset'):html.rindex('</fieldset>')]
