"""The identity API through Ory's own SDK (`ory_kratos_client` 25.4.0) against the live server.

The SDK is generated from Kratos's OpenAPI spec and deserializes every response into strict pydantic
models, so a call that returns at all proves the wire shape; fields the SDK does not know land in
`additional_properties`, which `exact` requires to be empty.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from ory_kratos_client import (
    CreateIdentityBody,
    Identity,
    IdentityApi,
    IdentityPatch,
    IdentityWithCredentials,
    IdentityWithCredentialsOidc,
    IdentityWithCredentialsOidcConfig,
    IdentityWithCredentialsOidcConfigProvider,
    IdentityWithCredentialsPassword,
    IdentityWithCredentialsPasswordConfig,
    JsonPatch,
    MetadataApi,
    PatchIdentitiesBody,
    UpdateIdentityBody,
)
from ory_kratos_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.compat.test_sdk_frontend import exact

pytestmark = pytest.mark.compat

# Kratos's own bcrypt fixture for the password "test" (hash/hash_comparator_test.go).
BCRYPT_TEST = "$2a$12$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL6"
NEXT_LINK = re.compile(r'<([^>]*)>;\s*rel="next"')


def password_credentials(**config: str) -> IdentityWithCredentials:
    return IdentityWithCredentials(
        password=IdentityWithCredentialsPassword(config=IdentityWithCredentialsPasswordConfig(**config)))


def create(identity_api: IdentityApi, email: str, **fields: Any) -> Identity:
    body = CreateIdentityBody(schema_id="default", traits={"email": email}, **fields)
    return exact(identity_api.create_identity(create_identity_body=body))


def test_create_with_a_plaintext_password_and_get_with_and_without_the_hash(identity_api, kratos_server, unique_email):
    email = unique_email()

    created = create(identity_api, email, credentials=password_credentials(password="correct horse battery staple"),
                     metadata_public={"plan": "pro"}, metadata_admin={"crm": 42})

    assert created.traits == {"email": email} and created.state == "active"
    assert created.schema_url == f"{kratos_server.public_url}/schemas/ZGVmYXVsdA"
    assert (created.metadata_public, created.metadata_admin) == ({"plan": "pro"}, {"crm": 42})
    assert created.credentials["password"].identifiers == [email]
    assert created.credentials["password"].config is None
    [address] = created.verifiable_addresses
    assert (address.value, address.via, address.verified, address.status) == (email, "email", False, "pending")
    assert [a.value for a in created.recovery_addresses] == [email]

    plain = exact(identity_api.get_identity(created.id))
    declassified = exact(identity_api.get_identity(created.id, include_credential=["password"]))

    assert plain.credentials["password"].config is None
    assert declassified.credentials["password"].config["hashed_password"].startswith("$2a$04$")  # cost from config
    assert declassified.traits == created.traits and declassified.created_at == created.created_at


def test_an_imported_bcrypt_hash_is_kept_as_given(identity_api, unique_email):
    created = create(identity_api, unique_email(), credentials=password_credentials(hashed_password=BCRYPT_TEST))

    fetched = exact(identity_api.get_identity(created.id, include_credential=["password"]))

    assert fetched.credentials["password"].config["hashed_password"] == BCRYPT_TEST


def test_list_pages_follow_the_link_header_until_there_is_no_next(identity_api, unique_email):
    organization = str(uuid.uuid4())  # isolates this test's identities from the rest of the session's
    created = {create(identity_api, unique_email(), organization_id=organization).id for _ in range(7)}
    pages: list[list[str]] = []
    token: str | None = None

    while True:
        response = identity_api.list_identities_with_http_info(
            page_size=3, page_token=token, organization_id=organization)
        assert response.status_code == 200
        pages.append([identity.id for identity in exact(response.data)])
        link = response.headers["Link"]
        assert 'rel="first"' in link
        if not (match := NEXT_LINK.search(link)):
            break
        token = parse_qs(urlsplit(match[1]).query)["page_token"][0]

    assert [len(page) for page in pages] == [3, 3, 1]
    listed = [identity_id for page in pages for identity_id in page]
    assert sorted(listed) == sorted(created)


def test_list_filters_by_credentials_identifier_and_by_ids(identity_api, unique_email):
    first, second, third = (create(identity_api, unique_email(), credentials=password_credentials(password="x" * 12))
                            for _ in range(3))

    by_identifier = exact(identity_api.list_identities(credentials_identifier=first.traits["email"]))
    by_ids = exact(identity_api.list_identities(ids=[first.id, third.id, str(uuid.uuid4())]))

    assert [identity.id for identity in by_identifier] == [first.id]
    assert by_identifier[0].credentials["password"].identifiers == [first.traits["email"]]
    assert sorted(identity.id for identity in by_ids) == sorted([first.id, third.id])
    assert second.id not in {identity.id for identity in by_ids}


def test_update_replaces_traits_and_clears_metadata_left_out(identity_api, unique_email):
    created = create(identity_api, unique_email(), credentials=password_credentials(password="x" * 12),
                     metadata_public={"plan": "pro"}, metadata_admin={"crm": 42})
    new_email = unique_email("renamed")

    updated = exact(identity_api.update_identity(created.id, update_identity_body=UpdateIdentityBody(
        schema_id="default", state="active", traits={"email": new_email})))

    assert updated.traits == {"email": new_email}
    assert (updated.metadata_public, updated.metadata_admin) == (None, None)
    fetched = exact(identity_api.get_identity(created.id))
    assert (fetched.traits, fetched.metadata_public, fetched.metadata_admin) == ({"email": new_email}, None, None)
    assert fetched.credentials["password"].identifiers == [new_email]


def test_json_patch_replaces_the_email_and_the_state(identity_api, unique_email):
    old_email, new_email = unique_email(), unique_email("patched")
    created = create(identity_api, old_email, credentials=password_credentials(password="x" * 12))

    patched = exact(identity_api.patch_identity(created.id, json_patch=[
        JsonPatch(op="replace", path="/traits/email", value=new_email),
        JsonPatch(op="replace", path="/state", value="inactive"),
    ]))

    assert (patched.traits, patched.state) == ({"email": new_email}, "inactive")
    assert patched.state_changed_at > created.state_changed_at
    assert patched.credentials["password"].identifiers == [new_email]
    assert [i.id for i in identity_api.list_identities(credentials_identifier=new_email)] == [created.id]
    assert identity_api.list_identities(credentials_identifier=old_email) == []


def test_delete_credentials_keeps_the_last_first_factor(identity_api, unique_email):
    credentials = IdentityWithCredentials(
        password=IdentityWithCredentialsPassword(config=IdentityWithCredentialsPasswordConfig(password="x" * 12)),
        oidc=IdentityWithCredentialsOidc(config=IdentityWithCredentialsOidcConfig(
            providers=[IdentityWithCredentialsOidcConfigProvider(provider="github", subject="1234")])),
    )
    created = create(identity_api, unique_email(), credentials=credentials)

    assert identity_api.delete_identity_credentials(created.id, "password") is None

    fetched = exact(identity_api.get_identity(created.id))
    assert sorted(fetched.credentials) == ["oidc"]
    with pytest.raises(BadRequestException) as refused:
        identity_api.delete_identity_credentials(created.id, "oidc", identifier="github:1234")
    assert json.loads(refused.value.body)["error"]["reason"] == "You cannot remove the last first factor credential."
    with pytest.raises(NotFoundException):
        identity_api.delete_identity_credentials(created.id, "password")


def test_batch_create_reports_each_item_and_errors_for_a_duplicate(identity_api, unique_email):
    existing = create(identity_api, unique_email())
    emails = [unique_email(), existing.traits["email"], unique_email()]
    patch_ids = [str(uuid.uuid4()) for _ in emails]

    result = exact(identity_api.batch_patch_identities(patch_identities_body=PatchIdentitiesBody(identities=[
        IdentityPatch(patch_id=patch_id, create=CreateIdentityBody(schema_id="default", traits={"email": email}))
        for patch_id, email in zip(patch_ids, emails, strict=True)
    ])))

    assert [item.patch_id for item in result.identities] == patch_ids
    assert [item.action for item in result.identities] == ["create", "error", "create"]
    duplicate = result.identities[1]
    assert duplicate.identity is None and duplicate.error["code"] == 409
    for item, email in zip(result.identities[::2], emails[::2], strict=True):
        assert exact(identity_api.get_identity(item.identity)).traits == {"email": email}
    assert [i.id for i in identity_api.list_identities(credentials_identifier=existing.traits["email"])] == [
        existing.id]


def test_a_deleted_identity_is_a_404_with_the_kratos_envelope(identity_api, unique_email):
    created = create(identity_api, unique_email())

    assert identity_api.delete_identity(created.id) is None

    with pytest.raises(NotFoundException) as missing:
        identity_api.get_identity(created.id)
    assert missing.value.status == 404
    assert json.loads(missing.value.body) == {
        "error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}}
    assert exact(missing.value.data).error.code == 404  # the SDK's ErrorGeneric model parses it too


def test_a_duplicate_identifier_is_a_409_api_exception(identity_api, unique_email):
    email = unique_email()
    create(identity_api, email)

    with pytest.raises(ApiException) as conflict:
        create(identity_api, email.upper())

    assert conflict.value.status == 409
    assert json.loads(conflict.value.body)["error"] == {
        "code": 409, "status": "Conflict", "message": "The resource could not be created due to a conflict",
        "reason": "This identity conflicts with another identity that already exists."}


def test_metadata_endpoints_on_the_admin_port(admin_client):
    metadata = MetadataApi(admin_client)

    assert exact(metadata.is_alive()).status == "ok"
    assert exact(metadata.is_ready()).status == "ok"
    assert exact(metadata.get_version()).version == "v26.2.0"


def test_identity_schemas_on_the_public_port(public_client):
    schemas = IdentityApi(public_client)

    listed = exact(schemas.list_identity_schemas())
    fetched = schemas.get_identity_schema("default")

    assert [container.id for container in listed] == ["default", "customer", "phone"]
    assert fetched == listed[0].var_schema
    assert fetched["properties"]["traits"]["properties"]["email"]["ory.sh/kratos"]["credentials"] == {
        "password": {"identifier": True}}
    with pytest.raises(NotFoundException):
        schemas.get_identity_schema("unknown")

