"""Each ASGI/WSGI entrypoint serves exactly its own surface."""
from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def _asgi_get(application: Any, path: str) -> tuple[int, dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return await inbox.get()  # after the body, wait like a connected client would

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "headers": [(b"host", b"localhost")],
             "server": ("127.0.0.1", 4433), "client": ("127.0.0.1", 50000)}
    await application(scope, receive, send)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, json.loads(body)


def _wsgi_get(application: Any, path: str) -> tuple[int, dict[str, Any]]:
    started: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "4434", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1"}
    chunks = application(environ, lambda status, headers: started.append(status))
    return int(started[0].split()[0]), json.loads(b"".join(chunks))


def test_asgi_admin_serves_admin_routes_and_public_does_not():
    from kratos_project.asgi_admin import application as admin
    from kratos_project.asgi_public import application as public

    assert asyncio.run(_asgi_get(admin, "/admin/version")) == (200, {"version": "v26.2.0"})
    status, body = asyncio.run(_asgi_get(public, "/admin/version"))
    assert status == 404 and body["error"]["code"] == 404
    assert asyncio.run(_asgi_get(public, "/health/alive")) == (200, {"status": "ok"})


def test_wsgi_admin_serves_admin_routes_and_public_does_not():
    from kratos_project.wsgi_admin import application as admin
    from kratos_project.wsgi_public import application as public

    assert _wsgi_get(admin, "/version") == (200, {"version": "v26.2.0"})
    assert _wsgi_get(public, "/version")[0] == 404
