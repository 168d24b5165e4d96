"""The admin identity API through HTTP: shapes and status codes as in Kratos's OpenAPI spec."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_create_returns_201_with_location_addresses_and_credentials_without_config(admin_api):
    response = admin_api.call("POST", "/admin/identities", {
        "schema_id": "default",
        "traits": {"email": "  Ada@Example.ORG ", "name": {"first": "Ada"}},
        "credentials": {"password": {"config": {"password": "correct horse battery staple"}}},
        "metadata_public": {"plan": "pro"},
        "metadata_admin": {"crm": 42},
    })

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"http://127.0.0.1:4434/identities/{body['id']}"
    assert body["schema_url"] == "http://127.0.0.1:4433/schemas/ZGVmYXVsdA"
    assert body["state"] == "active" and body["organization_id"] is None
    assert body["metadata_public"] == {"plan": "pro"} and body["metadata_admin"] == {"crm": 42}
    assert body["credentials"]["password"]["identifiers"] == ["ada@example.org"]
    assert "config" not in body["credentials"]["password"]
    [verifiable] = body["verifiable_addresses"]
    assert (verifiable["value"], verifiable["via"], verifiable["verified"], verifiable["status"]) == (
        "ada@example.org", "email", False, "pending")
    assert [a["value"] for a in body["recovery_addresses"]] == ["ada@example.org"]


def test_get_with_include_credential_shows_the_hash_only_when_asked(admin_api, identity_factory):
    created = identity_factory(password="correct horse battery staple")

    plain = admin_api.call("GET", f"/admin/identities/{created['id']}").json()
    declassified = admin_api.call("GET", f"/admin/identities/{created['id']}?include_credential=password").json()

    assert "config" not in plain["credentials"]["password"]
    assert declassified["credentials"]["password"]["config"]["hashed_password"].startswith("$2a$04$")


def test_duplicate_identifier_is_a_conflict(admin_api, identity_factory):
    identity_factory(traits={"email": "ada@example.org"})

    response = admin_api.call("POST", "/admin/identities", {"schema_id": "default", "traits": {"email": "ADA@example.org"}})

    assert response.status_code == 409
    assert response.json() == {"error": {
        "code": 409, "status": "Conflict", "message": "The resource could not be created due to a conflict",
        "reason": "This identity conflicts with another identity that already exists."}}


def test_schema_violation_is_a_400_with_details(admin_api):
    response = admin_api.call("POST", "/admin/identities", {"schema_id": "default", "traits": {"email": "not-an-email"}})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["errors"][0]["instance_ptr"] == "#/traits/email"
    assert "email" in error["reason"]
