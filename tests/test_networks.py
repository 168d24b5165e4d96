"""Tenancy: rows of another network are invisible to every admin identity endpoint."""
from __future__ import annotations

import pytest
from django.apps import apps

from identities.models import Identity, Network
from identities.services import IdentityDraft, create_identity
from kratos_project.tenancy import NetworkNotBound, NetworkScoped, bind_network

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_identity(db):
    """An identity (with a password identifier and an external id) in a second network."""
    with bind_network(Network.objects.create().id):
        return create_identity(IdentityDraft(
            schema_id="default", traits={"email": "ada@example.org"}, external_id="crm-7",
            credentials={"password": {"config": {"password": "correct horse battery staple"}}},
        ))


def test_foreign_identity_is_invisible_to_reads(admin_api, foreign_identity):
    base = f"/admin/identities/{foreign_identity.id}"

    assert admin_api.call("GET", "/admin/identities").json() == []
    assert admin_api.call("GET", f"/admin/identities?ids={foreign_identity.id}").json() == []
    assert admin_api.call("GET", "/admin/identities?credentials_identifier=ada@example.org").json() == []
    assert admin_api.call("GET", "/admin/identities?preview_credentials_identifier_similar=ada").json() == []
    assert admin_api.call("GET", base).status_code == 404
    assert admin_api.call("GET", "/admin/identities/by/external/crm-7").status_code == 404


def test_foreign_identity_cannot_be_changed_or_deleted(admin_api, foreign_identity):
    base = f"/admin/identities/{foreign_identity.id}"

    responses = [
        admin_api.call("PUT", base, {"schema_id": "default", "state": "active", "traits": {"email": "x@example.org"}}),
        admin_api.call("PATCH", base, [{"op": "replace", "path": "/state", "value": "inactive"}]),
        admin_api.call("DELETE", f"{base}/credentials/password"),
        admin_api.call("DELETE", base),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    foreign_identity.refresh_from_db()
    assert foreign_identity.state == "active" and foreign_identity.traits == {"email": "ada@example.org"}


def test_identifiers_are_unique_per_network_only(admin_api, foreign_identity, identity_factory):
    mine = identity_factory(traits={"email": "ada@example.org"}, external_id="crm-7")

    batch = admin_api.call("PATCH", "/admin/identities", {"identities": [
        {"create": {"schema_id": "default", "traits": {"email": "ADA@example.org"}}}]}).json()

    assert mine["traits"]["email"] == "ada@example.org"
    assert batch["identities"][0]["action"] == "error"  # conflicts with mine, not with the foreign one
    assert Identity.all_networks.filter(traits__email="ada@example.org").count() == 2


def test_scoped_query_outside_a_network_raises(db):
    with pytest.raises(NetworkNotBound):
        list(Identity.objects.all())


def test_every_model_is_scoped_and_its_unique_constraints_start_with_nid():
    ours = [m for m in apps.get_models() if m.__module__.split(".")[0] in
            {"identities", "sessions_app", "selfservice", "strategies", "courier"} and m is not Network]

    assert ours, "expected project models"
    for model in ours:
        assert issubclass(model, NetworkScoped), model
        for constraint in model._meta.constraints:
            assert constraint.fields[0] == "nid", (model, constraint.name)
