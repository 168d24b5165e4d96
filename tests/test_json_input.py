"""JSON input is decoded as Go decodes it: a lone escaped UTF-16 surrogate becomes U+FFFD, on every
JSON entry point, instead of a string no database or encoder takes (found as a 500, after the row
was written on SQLite)."""
from __future__ import annotations

import pytest

from kratos_project.jsonbody import MAX_DEPTH, decode_json, deeper_than
from tests.identities.test_import_command import run_import
from tests.selfservice.conftest import Flows

pytestmark = pytest.mark.django_db

LONE = '"x\\ud800y"'  # a JSON string with a lone high surrogate


@pytest.mark.parametrize("text, expected", [
    (LONE, "x\ufffdy"),
    ('"\\udfff"', "\ufffd"),
    ('"\\ud83d\\ude00"', "\U0001F600"),  # a valid pair is one character, kept
    ('{"\\ud800": ["\\uDBFF", 1]}', {"\ufffd": ["\ufffd", 1]}),
    ('"\\\\ud800"', "\\ud800"),  # an escaped backslash, then text
])
def test_decode_json(text, expected):
    assert decode_json(text.encode()) == expected


def test_admin_api_stores_and_returns_the_replacement_character(admin_api):
    body = '{"schema_id": "default", "traits": {"email": "ada@example.org", "name": {"first": ' + LONE + '}}}'

    created = admin_api.call("POST", "/admin/identities", body)

    assert created.status_code == 201, created.content
    assert created.json()["traits"]["name"]["first"] == "x\ufffdy"
    assert admin_api.call("GET", f"/admin/identities/{created.json()['id']}").json()["traits"]["name"]["first"] == "x\ufffdy"


def test_json_patch_values_are_scrubbed_too(admin_api, identity_factory):
    ada = identity_factory(traits={"email": "ada@example.org"})

    patched = admin_api.call("PATCH", f"/admin/identities/{ada['id']}",
                             '[{"op": "add", "path": "/metadata_public", "value": {"note": ' + LONE + '}}]')

    assert patched.status_code == 200 and patched.json()["metadata_public"] == {"note": "x\ufffdy"}


def test_a_flow_submission_echoes_the_replacement_character():
    flow = Flows("api").start("registration")

    response = Flows("api").client.post(
        f"/self-service/registration?flow={flow['id']}",
        '{"method": "profile", "traits": {"email": "not an email ' + LONE[1:-1] + '"}}',
        content_type="application/json", HTTP_ACCEPT="application/json")

    email = next(n for n in response.json()["ui"]["nodes"] if n["attributes"]["name"] == "traits.email")
    assert email["attributes"]["value"] == "not an email x\ufffdy"


def test_import_scrubs_records(admin_api):
    run = run_import("-", stdin='{"schema_id": "default", "traits": {"email": "ada@example.org", '
                                '"name": {"first": ' + LONE + '}}}\n')

    assert run.error is None, run.err
    [identity] = admin_api.call("GET", "/admin/identities").json()
    assert identity["traits"]["name"]["first"] == "x\ufffdy"


def nested(depth: int) -> str:
    return '{"schema_id": "default", "traits": {"email": "ada@example.org"}, "metadata_public": ' + \
        "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [MAX_DEPTH, 200_000])  # past the limit, and past Python's own stack
def test_json_nested_too_deep_is_a_400_everywhere(admin_api, depth):
    flow = Flows("api").start("login")

    created = admin_api.call("POST", "/admin/identities", nested(depth))
    batch = admin_api.call("PATCH", "/admin/identities", '{"identities": [{"create": ' + nested(depth) + "}]}")
    submitted = Flows("api").client.post(f"/self-service/login?flow={flow['id']}", nested(depth),
                                         content_type="application/json", HTTP_ACCEPT="application/json")

    assert created.status_code == 400 and f"nested deeper than {MAX_DEPTH} levels" in created.json()["error"]["reason"]
    assert batch.status_code == 400
    assert submitted.status_code == 400
    assert admin_api.call("GET", "/admin/identities").json() == []


def test_json_within_the_limit_is_kept_on_every_backend(admin_api):
    """The deepest body allowed holds a value MariaDB's JSON check still takes (31 levels)."""
    created = admin_api.call("POST", "/admin/identities", nested(MAX_DEPTH - 1))  # the body's own level

    assert created.status_code == 201, created.content
    stored = admin_api.call("GET", f"/admin/identities/{created.json()['id']}").json()["metadata_public"]
    assert deeper_than(stored, MAX_DEPTH - 2) and not deeper_than(stored, MAX_DEPTH - 1)


def test_import_refuses_deep_records_and_unreadable_input():
    deep = run_import("-", stdin=nested(MAX_DEPTH) + "\n")
    unreadable = run_import("-", stdin=nested(200_000) + "\n")

    assert f"record 1 (line 1): JSON nested deeper than {MAX_DEPTH} levels" in deep.err
    assert "nests JSON deeper than it can be read" in str(unreadable.error)
