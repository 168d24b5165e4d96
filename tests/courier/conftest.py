"""Real delivery endpoints for the courier tests: an SMTP server (aiosmtpd) and an HTTP server.

Both run in threads of the test process on free loopback ports and collect what they receive.
"""
from __future__ import annotations

import datetime
import email
import email.policy
import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from courier import services
from courier.models import Message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailCollector:
    """aiosmtpd handler: keeps every accepted message; can refuse recipients with a 5xx reply."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[str] = []
        self.helo_names: list[str] = []
        self.refuse_with: str | None = None  # e.g. "550 5.1.1 no such mailbox"

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.helo_names.append(session.host_name)
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        credentials = (auth_data.login, auth_data.password) if isinstance(auth_data, LoginPassword) else None
        ok = credentials == (b"courier", b"s3cret pass")
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=True would send no reply at all

    @property
    def mails(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default)  # type: ignore[arg-type]
                for e in self.envelopes]


@dataclass
class SMTPServer:
    port: int
    collector: MailCollector = field(default_factory=MailCollector)
    controller: Controller | None = None

    def start(self, **smtp_options: Any) -> SMTPServer:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port,
                                     authenticator=self.collector.authenticate, **smtp_options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def mails(self) -> list[EmailMessage]:
        return self.collector.mails


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A plain SMTP server (no STARTTLS offered); not started when a test needs it down first."""
    server = SMTPServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SMTPServer, kratos_env: Callable[..., None]) -> SMTPServer:
    """The running server, configured as the courier's cleartext SMTP relay."""
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?disable_starttls=true")
    return smtp_server.start(auth_require_tls=False)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for mail.test / 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("mail.test"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HTTPCollector:
    """An HTTP endpoint (an SMS gateway, an email API) that records requests and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.status = 200
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                collector.requests.append(ReceivedRequest(self.command, self.path, dict(self.headers.items()),
                                                          self.rfile.read(length)))
                self.send_response(collector.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = do_GET = _record  # noqa: N815 (http.server's method names)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_endpoint() -> Iterator[HTTPCollector]:
    collector = HTTPCollector()
    yield collector
    collector.close()


@pytest.fixture
def queue_email(network: Any) -> Callable[..., Message]:
    """Queue an email as a flow would (inside the default network)."""

    def queue(to: str = "ada@example.org", template_type: str = "verification_code_valid", **data: Any) -> Message:
        data = data or {"verification_code": "482915", "verification_url": "http://127.0.0.1:4433/v?code=482915",
                        "expires_in_minutes": 15}
        return services.enqueue_email(to=to, template_type=template_type, data=data)

    return queue

