"""The admin identity API through HTTP: shapes and status codes as in Kratos's OpenAPI spec."""
from __future__ import annotations

import json

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


def _link_targets(response) -> dict[str, str]:
    links = {}
    for part in response["Link"].split(","):
        target, rel = part.split(";")
        links[rel.strip().removeprefix('rel="').removesuffix('"')] = target.strip()[1:-1]
    return links


def test_keyset_pagination_walks_every_identity_once(admin_api, identity_factory):
    created = {identity_factory()["id"] for _ in range(7)}

    seen, url, pages = [], "/admin/identities?page_size=3", 0
    while url:
        response = admin_api.call("GET", url)
        assert response.status_code == 200
        seen += [i["id"] for i in response.json()]
        links, pages = _link_targets(response), pages + 1
        assert links["first"] == "/admin/identities?page_size=3&page_token=00000000-0000-0000-0000-000000000000"
        url = links.get("next")

    assert pages == 3 and sorted(seen) == sorted(created) and len(seen) == 7


def test_list_omits_credentials_unless_asked(admin_api, identity_factory):
    identity_factory(traits={"email": "ada@example.org"}, password="correct horse battery staple")

    plain = admin_api.call("GET", "/admin/identities").json()
    filtered = admin_api.call("GET", "/admin/identities?credentials_identifier=ADA@example.org").json()
    declassified = admin_api.call("GET", "/admin/identities?include_credential=password").json()

    assert "credentials" not in plain[0]
    assert [i["traits"]["email"] for i in filtered] == ["ada@example.org"]
    assert "config" not in filtered[0]["credentials"]["password"]
    assert declassified[0]["credentials"]["password"]["config"]["hashed_password"].startswith("$2a$")


@pytest.mark.parametrize("query, reason", [
    ("ids=nope", "Invalid UUID value `nope` for parameter `ids`."),
    ("include_credential=magic", "Invalid value `magic` for parameter `include_credential`."),
    ("credentials_identifier=a&organization_id=00000000-0000-0000-0000-000000000001",
     "You cannot combine multiple filters in this API"),
    ("page_token=not-a-token", "The page token is invalid, do not craft your own page tokens"),
    ("page=5&per_page=250", "Legacy pagination is not supported for enumerating over 1000 items. "
                            "Please switch to using page_token and page_size."),
    ("page=9223372036854775808", 'strconv.Atoi: parsing "9223372036854775808": value out of range'),
])
def test_bad_list_parameters_are_400(admin_api, query, reason):
    response = admin_api.call("GET", f"/admin/identities?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["reason"] == reason


def test_ids_filter_and_legacy_pages(admin_api, identity_factory):
    ids = [identity_factory()["id"] for _ in range(3)]

    filtered = admin_api.call("GET", f"/admin/identities?ids={ids[0]}&ids={ids[2]}").json()
    legacy = admin_api.call("GET", "/admin/identities?page=1&per_page=2")

    assert sorted(i["id"] for i in filtered) == sorted([ids[0], ids[2]])
    assert legacy["X-Total-Count"] == "3" and len(legacy.json()) == 1
    assert 'rel="prev"' in legacy["Link"] and 'rel="next"' not in legacy["Link"]


def test_put_replaces_traits_and_clears_omitted_metadata(admin_api, identity_factory):
    created = identity_factory(traits={"email": "ada@example.org"}, metadata_public={"a": 1}, external_id="crm-1")

    response = admin_api.call("PUT", f"/admin/identities/{created['id']}", {
        "schema_id": "", "state": "inactive", "traits": {"email": "grace@example.org"}})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["traits"] == {"email": "grace@example.org"} and body["state"] == "inactive"
    assert body["schema_id"] == "default" and body["metadata_public"] is None and "external_id" not in body
    assert body["credentials"]["password"]["identifiers"] == ["grace@example.org"]
    assert [a["value"] for a in body["verifiable_addresses"]] == ["grace@example.org"]
    lookup = admin_api.call("GET", "/admin/identities?credentials_identifier=ada@example.org").json()
    assert lookup == []


def test_json_patch_changes_traits_and_state(admin_api, identity_factory):
    created = identity_factory(traits={"email": "ada@example.org"})

    response = admin_api.call("PATCH", f"/admin/identities/{created['id']}", [
        {"op": "replace", "path": "/traits/email", "value": "grace@example.org"},
        {"op": "add", "path": "/metadata_public", "value": {"tier": "gold"}},
        {"op": "replace", "path": "/state", "value": "inactive"},
    ])

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["traits"]["email"], body["state"], body["metadata_public"]) == ("grace@example.org", "inactive", {"tier": "gold"})


@pytest.mark.parametrize("patch", [
    [{"op": "replace", "path": "/id", "value": "00000000-0000-0000-0000-000000000000"}],
    [{"op": "add", "path": "/credentials/password", "value": {}}],
    [{"op": "replace", "path": "/state", "value": "sleeping"}],
    [{"op": "remove", "path": "/traits/missing"}],
    [{"op": "explode", "path": "/traits"}],
    {"op": "replace"},
    [{"op": "replace", "path": {}, "value": "x"}],  # schemathesis found these two as 500s
    [{"op": "move", "from": 7, "path": "/traits/email"}],
])
def test_invalid_json_patch_is_400_and_changes_nothing(admin_api, identity_factory, patch):
    created = identity_factory(traits={"email": "ada@example.org"})

    response = admin_api.call("PATCH", f"/admin/identities/{created['id']}", patch)

    assert response.status_code == 400
    assert admin_api.call("GET", f"/admin/identities/{created['id']}").json()["traits"] == {"email": "ada@example.org"}


def test_delete_removes_identity_and_frees_its_identifier(admin_api, identity_factory):
    created = identity_factory(traits={"email": "ada@example.org"})

    assert admin_api.call("DELETE", f"/admin/identities/{created['id']}").status_code == 204
    missing = admin_api.call("GET", f"/admin/identities/{created['id']}")

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 404 and missing["Content-Type"] == "application/json"
    identity_factory(traits={"email": "ada@example.org"})


def test_batch_create_reports_each_item_in_order(admin_api, identity_factory):
    identity_factory(traits={"email": "taken@example.org"})
    patch_ids = ["8f3a3c25-1d52-4a1c-9d8c-3ed2b1f6a001", "8f3a3c25-1d52-4a1c-9d8c-3ed2b1f6a002",
                 "8f3a3c25-1d52-4a1c-9d8c-3ed2b1f6a003"]

    response = admin_api.call("PATCH", "/admin/identities", {"identities": [
        {"patch_id": patch_ids[0], "create": {"schema_id": "default", "traits": {"email": "new@example.org"}}},
        {"patch_id": patch_ids[1], "create": {"schema_id": "default", "traits": {"email": "taken@example.org"}}},
        {"patch_id": patch_ids[2], "create": {"schema_id": "default", "traits": {"email": "bad"}}},
    ]})

    assert response.status_code == 200, response.content
    results = response.json()["identities"]
    assert [r["patch_id"] for r in results] == patch_ids
    assert [r["action"] for r in results] == ["create", "error", "error"]
    assert results[1]["error"]["code"] == 409 and results[2]["error"]["code"] == 400
    assert admin_api.call("GET", f"/admin/identities/{results[0]['identity']}").status_code == 200


def test_batch_over_1000_items_is_rejected(admin_api):
    items = [{"create": {"schema_id": "default", "traits": {"email": f"u{i}@example.org"}}} for i in range(1001)]

    response = admin_api.call("PATCH", "/admin/identities", {"identities": items})

    assert response.status_code == 400
    assert admin_api.call("GET", "/admin/identities").json() == []


def test_credential_deletion_rules(admin_api, identity_factory):
    only_password = identity_factory(password="correct horse battery staple")
    both = identity_factory(password="correct horse battery staple", credentials={
        "password": {"config": {"password": "correct horse battery staple"}},
        "oidc": {"config": {"providers": [{"provider": "google", "subject": "123"}]}},
    })

    last = admin_api.call("DELETE", f"/admin/identities/{only_password['id']}/credentials/password")
    missing = admin_api.call("DELETE", f"/admin/identities/{only_password['id']}/credentials/totp")
    unlinked = admin_api.call("DELETE", f"/admin/identities/{both['id']}/credentials/oidc?identifier=google:123")

    assert last.status_code == 400
    assert last.json()["error"]["reason"] == "You cannot remove the last first factor credential."
    assert missing.status_code == 404
    assert unlinked.status_code == 204
    assert "oidc" not in admin_api.call("GET", f"/admin/identities/{both['id']}").json()["credentials"]


def test_imported_addresses_keep_their_verification_status(admin_api):
    response = admin_api.call("POST", "/admin/identities", {
        "schema_id": "default", "traits": {"email": "ada@example.org"},
        "verifiable_addresses": [{"value": "ada@example.org", "via": "email", "verified": True, "status": "completed"}],
    })

    [address] = response.json()["verifiable_addresses"]
    assert address["verified"] is True and address["status"] == "completed" and "verified_at" in address


def test_code_and_sms_identifiers_are_normalised(admin_api):
    response = admin_api.call("POST", "/admin/identities", {
        "schema_id": "customer", "traits": {"email": "Ada@Example.org", "phone": "+49 176 1234 5678"}})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["credentials"]["code"]["identifiers"] == ["+4917612345678", "ada@example.org"]
    assert {(a["via"], a["value"]) for a in body["verifiable_addresses"]} == {
        ("email", "ada@example.org"), ("sms", "+4917612345678")}
    declassified = admin_api.call("GET", f"/admin/identities/{body['id']}?include_credential=code").json()
    assert declassified["credentials"]["code"]["config"]["addresses"] == [
        {"channel": "sms", "address": "+4917612345678"}, {"channel": "email", "address": "ada@example.org"}]


@pytest.mark.parametrize("body, status", [
    ('{"schema_id": "default", "traits": ', 400),
    ({"schema_id": "default", "traits": {"email": "a@example.org"}, "surprise": 1}, 400),
    ({"schema_id": "default", "traits": "not an object"}, 400),
    ({"schema_id": "nope", "traits": {"email": "a@example.org"}}, 400),
    ({"schema_id": "default", "traits": {"email": "a@example.org"}, "credentials": {"totp": {}}}, 400),
    ({"schema_id": "default", "traits": {"email": "a@example.org"},
      "credentials": {"password": {"config": {"hashed_password": "$unknown$abc"}}}}, 400),
    ({"schema_id": "default", "traits": {"email": "a@example.org"}, "state": "sleeping"}, 400),
    # Kratos hashes only a non-empty password; an empty hash is no known format: no account without one.
    ({"schema_id": "default", "traits": {"email": "a@example.org"},
      "credentials": {"password": {"config": {"password": ""}}}}, 400),
    ({"schema_id": "default", "traits": {"email": "a@example.org"},
      "credentials": {"password": {"config": {"password": "", "hashed_password": ""}}}}, 400),
    ({"schema_id": "default", "traits": {"email": "a@example.org"}, "credentials": {"password": {"config": {}}}}, 400),
])
def test_bad_create_bodies_are_400_and_write_nothing(admin_api, body, status):
    response = admin_api.call("POST", "/admin/identities", body)

    assert response.status_code == status, response.content
    assert set(response.json()["error"]) >= {"code", "status", "message"}
    assert admin_api.call("GET", "/admin/identities").json() == []


def test_an_empty_hash_is_no_known_format(admin_api):
    body = {"schema_id": "default", "traits": {"email": "a@example.org"},
            "credentials": {"password": {"config": {"hashed_password": ""}}}}

    response = admin_api.call("POST", "/admin/identities", body)

    assert response.status_code == 400
    assert response.json()["error"]["reason"].startswith("The imported password does not match any known hash format.")


def test_an_empty_external_id_is_none(admin_api, identity_factory):
    created = admin_api.call("POST", "/admin/identities", {
        "schema_id": "default", "traits": {"email": "a@example.org"}, "external_id": ""}).json()
    other = identity_factory(traits={"email": "b@example.org"}, external_id="crm-2")
    replaced = admin_api.call("PUT", f"/admin/identities/{other['id']}", {
        "schema_id": "default", "traits": {"email": "b@example.org"}, "external_id": ""}).json()

    assert "external_id" not in created and "external_id" not in replaced
    assert admin_api.call("GET", "/admin/identities/by/external/crm-2").status_code == 404


def test_oversized_body_is_413(admin_api):
    huge = '{"schema_id": "default", "traits": {"email": "' + "a" * (5 * 1024 * 1024) + '"}}'

    response = admin_api.call("POST", "/admin/identities", huge)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == 413


def test_unknown_identity_is_404(admin_api):
    for path in ("/admin/identities/00000000-0000-0000-0000-000000000001", "/admin/identities/not-a-uuid",
                 "/admin/identities/by/external/nobody"):
        response = admin_api.call("GET", path)
        assert response.status_code == 404, path
        assert response["Ory-Error-Id"] == ""


def test_admin_prefix_is_optional_on_the_admin_port(admin_api, identity_factory):
    created = identity_factory()

    assert admin_api.call("GET", f"/identities/{created['id']}").json()["id"] == created["id"]
    assert admin_api.call("GET", "/version").json() == {"version": "v26.2.0"}


LONG = "a" * 290 + "@example.org"  # within the schema's maxLength (320), past the identifier column (255)


@pytest.mark.parametrize("body, where", [
    ({"traits": {"email": LONG}}, "traits.email"),
    ({"traits": {"email": "a@example.org"}, "external_id": "x" * 256}, "external_id"),
    ({"traits": {"email": "a@example.org"}, "verifiable_addresses": [{"value": "v" * 401, "via": "email"}]},
     "verifiable_addresses"),
    ({"traits": {"email": "a@example.org"},
      "verifiable_addresses": [{"value": "a@example.org", "via": "email", "status": "s" * 17}]}, "status"),
    ({"traits": {"email": "a@example.org"},
      "credentials": {"oidc": {"config": {"providers": [{"provider": "github", "subject": "1" * 250}]}}}}, "provider"),
])
def test_values_longer_than_their_column_are_400_on_every_backend(admin_api, body, where):
    """Found as 500s on PostgreSQL (and silently stored on SQLite): the limits are checked first."""
    response = admin_api.call("POST", "/admin/identities", {"schema_id": "default", **body})

    assert response.status_code == 400, response.content
    assert where.split(".")[-1] in json.dumps(response.json()["error"])
    assert admin_api.call("GET", "/admin/identities").json() == []


def test_a_long_identifier_trait_names_the_column_limit(admin_api):
    response = admin_api.call("POST", "/admin/identities", {"schema_id": "default", "traits": {"email": LONG}})

    assert response.json()["error"]["details"]["errors"] == [
        {"instance_ptr": "#/traits/email", "message": f"length must be <= 255, but got {len(LONG)}"}]
