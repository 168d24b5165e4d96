"""whoami's two hand-written reads (`session_by_token`, the addresses' UNION) give what the ORM gives,
and on PostgreSQL are prepared statements."""
from __future__ import annotations

import pytest
from django.db import connection

from identities.models import Identity, Network, RecoveryAddress, VerifiableAddress
from identities.services import IdentityDraft, create_identity
from kratos_project.tenancy import bind_network
from sessions_app.models import Session
from sessions_app.reads import addresses_of
from sessions_app.services import issue_session, session_by_token

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    """Every concrete column, by attribute name, with Python values (UUIDs, aware datetimes, JSON)."""
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_session_and_its_identity_are_read_as_the_orm_reads_them(network, admin_api, sign_in):
    created = admin_api.call("POST", "/admin/identities", {
        "schema_id": "default", "traits": {"email": "ada@example.org"}, "external_id": "crm-7",
        "metadata_public": {"plan": "pro", "seats": [1, 2]}, "metadata_admin": {"crm": 42},
        "state": "active"}).json()
    session, token = sign_in(Identity.objects.get(id=created["id"]), HTTP_USER_AGENT="Mozilla/5.0")
    expected = Session.objects.select_related("identity").get(id=session.id)

    found = session_by_token(token)

    assert _fields(found) == _fields(expected)
    assert _fields(found.identity) == _fields(expected.identity)
    assert found.expires_at.tzinfo is not None and found.devices[0]["user_agent"] == "Mozilla/5.0"
    assert not found._state.adding and found._state.db == "default"


def test_addresses_of_both_kinds_are_read_as_the_orm_reads_them(network, admin_api):
    body = admin_api.call("POST", "/admin/identities", {
        "schema_id": "default", "traits": {"email": "ada@example.org"},
        "verifiable_addresses": [{"value": "ada@example.org", "via": "email", "verified": True,
                                  "status": "completed", "verified_at": "2024-05-06T07:08:09.123456Z"}]}).json()
    other = admin_api.call("POST", "/admin/identities", {"schema_id": "default", "traits": {"email": "bob@example.org"}})
    ids = [Identity.objects.get(id=body["id"]).id, Identity.objects.get(id=other.json()["id"]).id]

    found = addresses_of(ids)

    def by_kind(model, addresses) -> list[dict]:
        return sorted((_fields(a) for a in addresses if type(a) is model), key=lambda fields: str(fields["id"]))

    for model in (VerifiableAddress, RecoveryAddress):
        assert by_kind(model, found) == by_kind(model, model.objects.filter(identity_id__in=ids))
        assert len(by_kind(model, found)) == 2
    assert any(a.verified and a.verified_at.tzinfo is not None for a in found if type(a) is VerifiableAddress)


def test_another_networks_session_and_addresses_are_not_read(network, sign_in):
    with bind_network(Network.objects.create().id):
        foreign = create_identity(IdentityDraft(schema_id="default", traits={"email": "eve@example.org"}))
        _, token = issue_session(foreign, method="password")
        assert session_by_token(token) is not None  # found in its own network

    assert session_by_token(token) is None
    assert addresses_of([foreign.id]) == []


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")


def _prepared_statements() -> dict[str, int]:
    """This connection's prepared statements: their tables (session, addresses) → times executed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        rows = cursor.fetchall()
    tables = {"sessions_app_session": "session", "identities_verifiableaddress": "addresses"}
    return {name: runs for statement, runs in rows for table, name in tables.items() if f'"{table}"' in statement}


@postgresql_only
def test_whoami_prepares_its_two_statements_once_and_django_still_counts_them(public_api, sign_in,
                                                                               django_assert_num_queries):
    _, token = sign_in()

    for _ in range(3):
        with django_assert_num_queries(2):  # through Django's cursor wrapper: logged, counted
            response = public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)
        assert response.status_code == 200

    assert _prepared_statements() == {"session": 3, "addresses": 3}  # prepared once, run three times
    assert response.json()["identity"]["verifiable_addresses"][0]["value"].endswith("@example.org")


@postgresql_only
def test_with_preparing_switched_off_nothing_is_prepared(settings, public_api, sign_in):
    """KRATOS_PG_PREPARE=0, for PostgreSQL behind a pooler that does not keep prepared statements."""
    settings.KRATOS_PG_PREPARE = False
    _, token = sign_in()

    response = public_api.call("GET", "/sessions/whoami", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200 and response.json()["identity"]["recovery_addresses"]
    assert _prepared_statements() == {}
