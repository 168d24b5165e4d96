"""Health, version and identity schema endpoints on both surfaces."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from django.db import connection

from kratos_project.surfaces import SURFACE_KEY
from tests.conftest import ApiClient

SCHEMAS = Path(__file__).parent / "schemas"


@pytest.fixture(params=["public", "admin"])
def any_api(request, db):
    return ApiClient(**{SURFACE_KEY: request.param})


def test_alive_and_ready_answer_ok(any_api):
    for path in ("/health/alive", "/health/ready"):
        response = any_api.call("GET", path)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.fixture
def unreachable_database(transactional_db):
    """Point the connection at a database that cannot be reached, then restore it."""
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/kratos.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def test_ready_is_503_when_the_database_is_unreachable(unreachable_database):
    admin = ApiClient(**{SURFACE_KEY: "admin"}).call("GET", "/health/ready")
    public = ApiClient(**{SURFACE_KEY: "public"}).call("GET", "/health/ready")
    alive = ApiClient(**{SURFACE_KEY: "public"}).call("GET", "/health/alive")

    assert admin.status_code == public.status_code == 503
    assert admin.json()["error"]["reason"].startswith("database: ")
    assert public.json()["error"]["reason"] == "One or more checks failed."
    assert alive.status_code == 200


def test_version_only_on_admin(admin_api, public_api):
    assert admin_api.call("GET", "/admin/version").json() == {"version": "v26.2.0"}
    assert public_api.call("GET", "/version").status_code == 404


def test_schemas_list_every_configured_schema(any_api):
    response = any_api.call("GET", "/schemas")

    assert response.status_code == 200
    assert response["X-Total-Count"] == "3"
    by_id = {s["id"]: s["schema"] for s in response.json()}
    assert by_id["default"] == json.loads((SCHEMAS / "email-password.schema.json").read_text())
    assert set(by_id) == {"default", "customer", "phone"}


def test_schema_by_id_or_base64url_id(any_api):
    encoded = base64.urlsafe_b64encode(b"customer").decode().rstrip("=")

    plain = any_api.call("GET", "/schemas/customer")
    by_url = any_api.call("GET", f"/schemas/{encoded}")
    missing = any_api.call("GET", "/schemas/nope")

    assert plain.status_code == by_url.status_code == 200
    assert plain.json() == by_url.json() and plain.json()["title"].startswith("Customer")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404


def test_get_responses_are_uncacheable(any_api):
    assert any_api.call("GET", "/schemas")["Cache-Control"] == "private, no-cache, no-store, must-revalidate"


def test_admin_routes_are_not_on_the_public_surface(public_api):
    for path in ("/admin/identities", "/identities", "/console/", "/admin/version"):
        response = public_api.call("GET", path)
        assert response.status_code == 404, path
        assert response.json()["error"]["status"] == "Not Found"


def test_schemas_load_from_base64_and_file_urls(kratos_env, admin_api):
    document = (SCHEMAS / "phone-password.schema.json").read_bytes()
    kratos_env(IDENTITY_SCHEMAS=json.dumps([
        {"id": "default", "url": f"file://{SCHEMAS / 'email-password.schema.json'}"},
        {"id": "inline", "url": "base64://" + base64.b64encode(document).decode()},
    ]))

    response = admin_api.call("GET", "/schemas/inline")

    assert response.status_code == 200 and response.json() == json.loads(document)


class _SchemaServer:
    """A real HTTP server on loopback serving one schema, optionally too slowly."""

    def __init__(self, body: bytes, delay: float = 0.0) -> None:
        import http.server
        import threading
        import time

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/identity.schema.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_schemas_load_over_http(kratos_env, admin_api):
    document = (SCHEMAS / "phone-password.schema.json").read_bytes()
    server = _SchemaServer(document)
    try:
        kratos_env(IDENTITY_SCHEMAS=json.dumps([{"id": "default", "url": server.url}]))
        response = admin_api.call("GET", "/schemas/default")
    finally:
        server.close()

    assert response.status_code == 200 and response.json() == json.loads(document)


def test_a_schema_server_that_hangs_times_out(kratos_env, admin_api, monkeypatch):
    from kratos_project import fetcher

    monkeypatch.setattr(fetcher, "HTTP_TIMEOUT_SECONDS", 0.3)
    server = _SchemaServer(b"{}", delay=2)
    try:
        kratos_env(IDENTITY_SCHEMAS=json.dumps([{"id": "default", "url": server.url + "?slow"}]))
        response = admin_api.call("GET", "/schemas/default")
    finally:
        server.close()

    assert response.status_code == 500
    assert "timed out" in response.json()["error"]["reason"]
