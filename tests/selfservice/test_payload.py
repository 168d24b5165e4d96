"""Submission bodies a client gets wrong: a 400 with the reason, never a 500, on every flow. As in
Kratos, a 400 of a flow step comes back as the flow itself carrying message 4000001 and the reason."""
from __future__ import annotations

import pytest
from django.test import Client

from kratos_project.surfaces import SURFACE_KEY
from tests.selfservice.conftest import Flows, path_of

pytestmark = pytest.mark.django_db

FLOWS = ("login", "registration", "recovery", "verification")


@pytest.fixture(autouse=True)
def account_flows_enabled(kratos_env):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_ENABLED="true", SELFSERVICE_FLOWS_VERIFICATION_ENABLED="true")


def post(flow: dict, body: bytes, content_type: str):
    return Client(**{SURFACE_KEY: "public"}).generic(
        "POST", path_of(flow["ui"]["action"]), body, content_type=content_type, HTTP_ACCEPT="application/json")


def refusal(response) -> str:
    """The reason a re-rendered flow gives for refusing the body."""
    assert response.status_code == 400, response.content
    [message] = response.json()["ui"]["messages"]
    assert message["id"] == 4000001 and message["type"] == "error"
    return message["context"]["reason"]


@pytest.mark.parametrize("name", FLOWS)
def test_a_form_without_its_multipart_boundary_is_a_400(name):
    flow = Flows("api").start(name)

    response = post(flow, b"--x\r\nContent-Disposition: form-data; name=method\r\n\r\npassword\r\n--x--", "multipart/form-data")

    assert refusal(response).startswith("Unable to parse the HTTP form body")


@pytest.mark.parametrize("name", FLOWS)
@pytest.mark.parametrize("body, reason", [
    (b"{not json", "Unable to decode the request body as JSON"),
    (b'["method", "password"]', "The request body must be a JSON object."),
])
def test_json_that_is_not_an_object_is_a_400(name, body, reason):
    response = post(Flows("api").start(name), body, "application/json")

    assert refusal(response).startswith(reason)


def test_a_form_field_that_is_both_a_value_and_a_group_is_a_400():
    flow = Flows("api").start("registration")

    response = post(flow, b"method=password&traits=ada&traits.email=ada%40example.org",
                    "application/x-www-form-urlencoded")

    assert refusal(response) == "The form field 'traits.email' conflicts with another field."
