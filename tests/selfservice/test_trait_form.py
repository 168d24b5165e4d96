"""Trait inputs come from the identity schema, and HTML form strings are typed by it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.selfservice.conftest import Flows

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_schema(kratos_env):
    kratos_env(
        IDENTITY_SCHEMAS=json.dumps([
            {"id": "default", "url": f"file://{SCHEMAS / 'email-password.schema.json'}"},
            {"id": "customer", "url": f"file://{SCHEMAS / 'email-phone-code-mfa.schema.json'}",
             "selfservice_selectable": True},
            {"id": "staff", "url": f"file://{SCHEMAS / 'phone-password.schema.json'}"},
        ]),
        SELFSERVICE_FLOWS_REGISTRATION_STYLE="unified",
    )


def _attributes(flow: dict) -> dict[str, dict]:
    return {n["attributes"]["name"]: n["attributes"] for n in flow["ui"]["nodes"]}


def test_nodes_follow_the_schema(customer_schema):
    flow = Flows("api").start("registration", identity_schema="customer")

    nodes = _attributes(flow)
    names = [n["attributes"]["name"] for n in flow["ui"]["nodes"]]

    assert names == ["csrf_token", "traits.email", "password", "traits.phone", "traits.name.first",
                     "traits.name.last", "traits.newsletter", "method"]
    assert (nodes["traits.email"]["type"], nodes["traits.email"]["autocomplete"], nodes["traits.email"]["required"]) == (
        "email", "email", True)
    assert (nodes["traits.phone"]["type"], nodes["traits.phone"]["autocomplete"]) == ("tel", "tel")
    assert "required" not in nodes["traits.phone"]
    assert nodes["traits.newsletter"]["type"] == "checkbox"
    assert flow["identity_schema"] == "customer"


def test_html_form_values_are_typed_by_the_schema(customer_schema, admin_api):
    browser = Flows("browser")
    flow = browser.start("registration", identity_schema="customer")

    response = browser.submit(flow, method="password", password="correct horse battery staple",
                              traits={"email": "ada@example.org", "phone": "+4917612345678", "newsletter": "true",
                                      "name": {"first": "Ada", "last": "Lovelace"}})

    assert response.status_code == 303, response.content
    [identity] = admin_api.call("GET", "/admin/identities?credentials_identifier=ada@example.org").json()
    assert identity["schema_id"] == "customer"
    assert identity["traits"]["newsletter"] is True and identity["traits"]["name"] == {"first": "Ada", "last": "Lovelace"}


def test_a_schema_that_is_not_selectable_is_refused(customer_schema):
    client = Flows("api").client

    assert client.get("/self-service/registration/api", {"identity_schema": "staff"}).status_code == 400
    assert client.get("/self-service/registration/api", {"identity_schema": "default"}).status_code == 200
