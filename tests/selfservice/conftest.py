"""`flows`: the one place that knows how each kind of client drives a self-service flow.

browser: an HTML client with a cookie jar, following Kratos's 303s and posting forms with the
anti-CSRF token; spa: the same cookie jar speaking JSON; api: a native app, JSON without cookies,
authenticating with the session token.

`mailbox`: a real SMTP server (the courier tests' aiosmtpd one) that the courier delivers to.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from courier.dispatcher import dispatch_queue
from kratos_project.surfaces import SURFACE_KEY
from tests.courier.conftest import SMTPServer, free_port

KINDS = ("browser", "spa", "api")
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def node_value(flow: dict[str, Any], name: str) -> Any:
    return next(n["attributes"].get("value") for n in flow["ui"]["nodes"] if n["attributes"].get("name") == name)


class Flows:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.client = Client(**{SURFACE_KEY: "public"})
        self.session_token: str | None = None

    @property
    def accept(self) -> str:
        return HTML if self.kind == "browser" else "application/json"

    def init(self, flow: str, **query: str) -> Any:
        """The raw answer of the init endpoint this kind of client calls."""
        variant = "api" if self.kind == "api" else "browser"
        return self.client.get(f"/self-service/{flow}/{variant}", query, HTTP_ACCEPT=self.accept, **self._auth())

    def start(self, flow: str, **query: str) -> dict[str, Any]:
        response = self.init(flow, **query)
        if self.kind == "browser":
            assert response.status_code == 303, response.content
            flow_id = parse_qs(urlsplit(response["Location"]).query)["flow"][0]
            response = self.client.get(f"/self-service/{flow}/flows", {"id": flow_id}, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content
        return response.json()

    def submit(self, flow: dict[str, Any], **body: Any) -> Any:
        url = path_of(flow["ui"]["action"])
        if self.kind != "api":
            body.setdefault("csrf_token", node_value(flow, "csrf_token"))
        if self.kind == "browser":
            return self.client.post(url, _form(body), HTTP_ACCEPT=HTML)
        if self.kind == "spa":
            return self.client.post(url, body, content_type="application/json", HTTP_ACCEPT="application/json")
        return Client(**{SURFACE_KEY: "public"}).post(url, body, content_type="application/json",
                                                       HTTP_ACCEPT="application/json", **self._auth())

    def open(self, url: str) -> Any:
        """A link (from an email) opened in this client: an HTML GET, with this client's cookies."""
        return self.client.get(path_of(url), HTTP_ACCEPT=HTML)

    def fetch(self, flow_id: str, flow: str) -> dict[str, Any]:
        response = self.client.get(f"/self-service/{flow}/flows", {"id": flow_id}, HTTP_ACCEPT="application/json",
                                   **self._auth())
        assert response.status_code == 200, response.content
        return response.json()

    def sign_in(self, identifier: str, password: str) -> None:
        """Log in through the login flow, keeping the cookie (browser, spa) or the token (api)."""
        response = self.submit(self.start("login"), method="password", identifier=identifier, password=password)
        assert response.status_code == (303 if self.kind == "browser" else 200), response.content
        if self.kind == "api":
            self.session_token = response.json()["session_token"]

    def shown(self, flow: dict[str, Any], response: Any, name: str) -> dict[str, Any]:
        """The flow a submission re-rendered: in the body, or behind the browser's redirect."""
        return self.fetch(flow["id"], name) if self.kind == "browser" else response.json()

    def whoami(self) -> Any:
        client = self.client if self.kind != "api" else Client(**{SURFACE_KEY: "public"})
        return client.get("/sessions/whoami", HTTP_ACCEPT="application/json", **self._auth())

    def _auth(self) -> dict[str, str]:
        return {"HTTP_X_SESSION_TOKEN": self.session_token} if self.kind == "api" and self.session_token else {}


def _form(body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON → the dotted names an HTML form posts (`traits.email`)."""
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            fields.update(_form(value, f"{name}."))
        else:
            fields[name] = value
    return fields


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def flows(kind: str, db: None) -> Flows:
    return Flows(kind)


class Mailbox:
    """What the courier delivered over SMTP: `deliver()` runs one dispatcher pass, as the worker would."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    def deliver(self) -> list[EmailMessage]:
        dispatch_queue()
        return self.server.mails

    def to(self, address: str) -> list[EmailMessage]:
        return [mail for mail in self.deliver() if mail["To"] == address]

    def text(self, address: str) -> str:
        """The plain-text body of the one message delivered to `address`."""
        mails = self.to(address)
        assert len(mails) == 1, [m["Subject"] for m in mails]
        return mails[0].get_body(preferencelist=("plain",)).get_content()

    def code(self, address: str) -> str:
        return re.findall(r"^(\d{6})\s*$", self.text(address), re.MULTILINE)[0]

    def link(self, address: str) -> str:
        return re.findall(r"http://127\.0\.0\.1:4433/self-service/\S+", self.text(address))[0]


@pytest.fixture
def mailbox(kratos_env: Callable[..., None]) -> Iterator[Mailbox]:
    server = SMTPServer(free_port()).start(auth_require_tls=False)
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{server.port}/?disable_starttls=true")
    yield Mailbox(server)
    server.stop()
