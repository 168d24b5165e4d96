"""The live server through plain HTTP: which port serves what, limits, and concurrent writers."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.compat

NOT_FOUND = {"error": {"code": 404, "status": "Not Found", "message": "The requested resource could not be found"}}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Surface a redirect as the response it is, instead of following it to another port."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_exact_opener = urllib.request.build_opener(_NoRedirects)
_following_opener = urllib.request.build_opener()


def request(method: str, url: str, body: bytes | None = None, *,
            follow_redirects: bool = False) -> tuple[int, dict[str, str], Any]:
    """(status, headers, decoded JSON body); HTTP errors are answers here, not exceptions."""
    prepared = urllib.request.Request(url, data=body, method=method, headers={"Accept": "application/json"})
    if body is not None:
        prepared.add_header("Content-Type", "application/json")
    opener = _following_opener if follow_redirects else _exact_opener
    try:
        with opener.open(prepared, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    return status, headers, json.loads(raw) if raw else None


def create_body(email: str) -> bytes:
    return json.dumps({"schema_id": "default", "traits": {"email": email}}).encode()


# Kratos v26.2.0 answers these on the public port with a 307 to the admin base URL
# (identity/handler.go RegisterPublicRoutes); this server does not mount them there at all.
@pytest.mark.parametrize("path", ["/admin/identities", "/identities", "/admin/identities/by/external/x"])
def test_admin_paths_are_not_served_on_the_public_port(kratos_server, path):
    status, headers, body = request("GET", kratos_server.public_url + path)

    assert (status, body) == (404, NOT_FOUND)
    assert headers["Content-Type"] == "application/json"


def test_creating_an_identity_is_not_possible_on_the_public_port(kratos_server, unique_email):
    email = unique_email()

    status, _, body = request("POST", kratos_server.public_url + "/admin/identities", create_body(email))

    assert (status, body) == (404, NOT_FOUND)
    _, _, found = request("GET", f"{kratos_server.admin_url}/admin/identities?credentials_identifier={email}")
    assert found == []


def test_version_is_served_on_the_admin_port_only(kratos_server):
    assert request("GET", kratos_server.admin_url + "/version")[::2] == (200, {"version": "v26.2.0"})
    assert request("GET", kratos_server.admin_url + "/admin/version")[::2] == (200, {"version": "v26.2.0"})
    assert request("GET", kratos_server.public_url + "/version")[::2] == (404, NOT_FOUND)


@pytest.mark.parametrize("port", ["public_url", "admin_url"])
@pytest.mark.parametrize("check", ["/health/alive", "/health/ready"])
def test_health_checks_answer_on_both_ports(kratos_server, port, check):
    status, headers, body = request("GET", getattr(kratos_server, port) + check)

    assert (status, body) == (200, {"status": "ok"})
    assert headers["Cache-Control"] == "private, no-cache, no-store, must-revalidate"


@pytest.mark.parametrize("port", ["public_url", "admin_url"])
def test_identity_schemas_are_listed_on_both_ports(kratos_server, port):
    # Kratos's admin port may answer with a 307 to the public one (x/redir); clients follow it.
    status, _, body = request("GET", getattr(kratos_server, port) + "/schemas", follow_redirects=True)

    assert status == 200
    assert [schema["id"] for schema in body] == ["default", "customer", "phone"]
    assert body[0]["schema"]["properties"]["traits"]["properties"]["email"]["format"] == "email"


def test_concurrent_creates_of_one_identifier_yield_one_identity_and_conflicts(kratos_server, unique_email):
    email, writers = unique_email("race"), 8
    start = threading.Barrier(writers)
    statuses: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        start.wait()  # all requests leave together, so they race inside the server
        status, _, _ = request("POST", kratos_server.admin_url + "/admin/identities", create_body(email))
        with lock:
            statuses.append(status)

    _run_threads(create, writers)

    assert Counter(statuses) == {201: 1, 409: writers - 1}
    _, _, found = request("GET", f"{kratos_server.admin_url}/admin/identities?credentials_identifier={email}")
    assert [identity["traits"]["email"] for identity in found] == [email]


def _run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)


def test_a_body_over_5_mb_is_refused_with_413(kratos_server, unique_email):
    padding = "x" * (5 * 1024 * 1024)
    body = json.dumps({"schema_id": "default", "traits": {"email": unique_email()}, "metadata_admin": padding})

    status, _, envelope = request("POST", kratos_server.admin_url + "/admin/identities", body.encode())

    assert status == 413
    assert envelope["error"]["code"] == 413 and envelope["error"]["status"] == "Request Entity Too Large"


def test_malformed_json_is_a_400_envelope(kratos_server):
    status, _, envelope = request("POST", kratos_server.admin_url + "/admin/identities", b'{"schema_id": ')

    assert status == 400
    error = envelope["error"]
    assert (error["code"], error["status"]) == (400, "Bad Request")
    assert error["message"] == "The request was malformed or contained invalid parameters"
    assert error["reason"].startswith("Unable to decode the request body as JSON")
