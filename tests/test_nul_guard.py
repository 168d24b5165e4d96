"""NUL characters are refused on every backend before any view runs (PostgreSQL cannot store them;
found by schemathesis as a 500 on PostgreSQL only)."""
from __future__ import annotations

import json

import pytest

from kratos_project.nul_guard import REFUSAL, contains_nul
from tests.selfservice.conftest import Flows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("data, found", [
    (b'{"a": "x\\u0000y"}', True),
    (b'{"a": "\\\\\\u0000"}', True),  # an escaped backslash, then the escape
    (b'{"a": "\\\\u0000"}', False),  # a backslash, then the text u0000
    (b"identifier=a%00b", True),
    (b"a\x00b", True),
    (b'{"a": "\\u00001"}', True),
    (b'{"a": "\\u0001"}', False),
    (b"identifier=a%2500", False),  # a percent sign, then 00
])
def test_contains_nul(data, found):
    assert contains_nul(data) is found


def refused(response) -> bool:
    return response.status_code == 400 and response.json()["error"]["reason"] == REFUSAL


def test_a_nul_in_a_json_body_is_refused_and_nothing_is_written(admin_api):
    body = {"schema_id": "default", "traits": {"email": "ada\u0000@example.org"}}

    assert refused(admin_api.call("POST", "/admin/identities", json.dumps(body)))
    assert admin_api.call("GET", "/admin/identities").json() == []


def test_a_nul_in_a_flow_submission_is_refused():
    flows = Flows("api")
    flow = flows.start("registration")

    response = flows.submit(flow, method="password", password="a long password 123",
                            traits={"email": "ada@example.org"}, transient_payload={"note": "x\u0000"})

    assert refused(response)


def test_a_nul_in_a_form_is_refused():
    flows = Flows("browser")
    flow = flows.start("login")

    response = flows.submit(flow, method="password", identifier="ada\x00@example.org", password="whatever it is")

    assert refused(response)


@pytest.mark.parametrize("path", ["/admin/identities/by/external/crm%00", "/admin/identities?credentials_identifier=a%00"])
def test_a_nul_in_the_path_or_query_is_refused(admin_api, path):
    assert refused(admin_api.call("GET", path))
