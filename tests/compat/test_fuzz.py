"""No input makes a 500: every operation of Kratos's OpenAPI spec, fed inputs that schemathesis
generates from it (valid, invalid and odd ones), against the real server, on both ports.

Where an operation takes an id (an identity, a session, a flow), a real one is put in, so the
request gets past the lookup and into the code that reads the body. Hypothesis runs derandomised,
so a run is repeatable and CI stays deterministic; `FUZZ_EXAMPLES=500` searches further locally.
What this found when it was written (durations and pages past Go's int64, a JSON Patch path that
is not a string, a multipart form without its boundary) is pinned by focused tests elsewhere.
"""
from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.compat.conftest import KratosServer, running_server

pytestmark = pytest.mark.compat

SPEC = Path(__file__).resolve().parents[3] / "shared" / "kratos" / "openapi.json"  # ../shared beside the checkout
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FLOWS = ("login", "registration", "recovery", "verification", "settings")
PASSWORD = "a long enough fuzzing password 7"

schema = schemathesis.openapi.from_path(SPEC)


def _call(url: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              **({"X-Session-Token": token} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


class Seeds:
    """Real ids on the fuzzed server: api flows of every kind, an identity with a session."""

    def __init__(self, server: KratosServer) -> None:
        public = server.public_url
        registration = _call(f"{public}/self-service/registration/api")
        signed_up = _call(f"{public}/self-service/registration?flow={registration['id']}",
                          {"method": "password", "traits": {"email": "fuzz@example.org"}, "password": PASSWORD})
        self.token = signed_up["session_token"]
        self.identity_id = signed_up["identity"]["id"]
        self.session_id = signed_up["session"]["id"]
        self.flow_ids = {flow: _call(f"{public}/self-service/{flow}/api", token=self.token if flow == "settings" else "")["id"]
                         for flow in FLOWS}

    def fill(self, case: Any) -> None:
        """Replace generated ids with real ones where the operation takes them."""
        path_parameters = case.path_parameters or {}
        if "id" in path_parameters:
            path_parameters["id"] = self.session_id if "/sessions/" in case.path else self.identity_id
        flow = next((name for name in FLOWS if f"/self-service/{name}" in case.path), None)
        if flow and case.query is not None:
            for parameter in ("flow", "id"):
                if parameter in case.query:
                    case.query[parameter] = self.flow_ids[flow]
        if flow == "settings" or case.path.startswith("/sessions"):
            case.headers = {**(case.headers or {}), "X-Session-Token": self.token}


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KratosServer]:
    """A server of its own (the fuzzer fills its database with oddities), every flow and method on."""
    config = {"selfservice": {
        "methods": {"link": {"enabled": True}, "code": {"enabled": True}},
        "flows": {"recovery": {"enabled": True}, "verification": {"enabled": True}},
    }}
    with running_server(tmp_path_factory.mktemp("fuzzed-server"), config, "--workers", "1") as server:
        yield server


@pytest.fixture(scope="module")
def seeds(fuzzed_server: KratosServer) -> Seeds:
    return Seeds(fuzzed_server)


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case: Any, fuzzed_server: KratosServer, seeds: Seeds) -> None:
    seeds.fill(case)
    base_url = fuzzed_server.admin_url if case.path.startswith("/admin/") else fuzzed_server.public_url
    response = case.call(base_url=base_url, timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
