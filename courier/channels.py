"""Delivery channels (Kratos `courier/smtp_channel.go`, `http_channel.go`, `courier_dispatcher.go`).

A message names its channel: `email` goes over SMTP (`courier.smtp`) or, with
`courier.delivery_strategy: http`, over `courier.http.request_config`; any other id (`sms`) is a
`courier.channels[]` entry of type `http`. A failed delivery raises `DeliveryError`, whose body is
what the dispatch row records.

HTTP request bodies: Kratos renders them with jsonnet, which we do not run. Without a `body` (or
with Kratos's default one) we send the fields Kratos's default template produces: `recipient`,
`template_type`, `to`, `recovery_code`, `recovery_url`, `verification_url`, `verification_code`,
`subject`, `body`. Any other `body` URI must hold a Django template that renders the JSON object to
send, with Kratos's template input as `ctx` (`recipient`, `subject`, `body`, `html_body`,
`template_type`, `template_data`, `message_type`, `request_headers`) and a `json` filter:
`{"to": {{ ctx.recipient|json }}, "text": {{ ctx.body|json }}}`.
"""
from __future__ import annotations

import base64
import functools
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from courier import templates
from courier.models import Message
from kratos_project.config import SCHEMA_PATH, Config, get_config
from kratos_project.errors import KratosError
from kratos_project.fetcher import fetch

TIMEOUT_SECONDS = 10  # Kratos's SMTP dial timeout and HTTP connection timeout
_RESPONSE_LOG_LIMIT = 1024
_FORM = "application/x-www-form-urlencoded"
# Go's strconv.ParseBool, which Kratos applies to the connection URI's flags.
_TRUE = frozenset(("1", "t", "T", "true", "TRUE", "True"))


class DeliveryError(KratosError):
    """A failed attempt. Kratos records the error as a herodot object; so does the dispatch row.

    `permanent`: the server refused the message itself (SMTP 5xx); Kratos abandons it at once.
    """

    def __init__(self, reason: str | None = None, *, message: str | None = None, permanent: bool = False) -> None:
        super().__init__(reason, message=message)
        self.permanent = permanent

    def record(self) -> dict[str, Any]:
        return self.body()["error"]


class Channel(Protocol):
    id: str

    def send(self, message: Message) -> None:
        """Deliver `message` or raise `DeliveryError`."""


def channel_for(channel_id: str) -> Channel:
    config = get_config()
    if channel_id == "email":
        if config.get("courier.delivery_strategy", "smtp") == "http":
            return HTTPChannel("email", config.get("courier.http.request_config") or {})
        return SMTPChannel(SMTPSettings.from_config(config))
    for channel in config.get("courier.channels") or ():
        if channel["id"] != channel_id:
            continue
        if channel.get("type") != "http":
            raise DeliveryError(message=f"unknown courier channel type: {channel.get('type', '')}")
        return HTTPChannel(channel_id, channel["request_config"])
    raise DeliveryError(message=f"no courier channels configured for: {channel_id}")


# --- SMTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    username: str
    password: str
    implicit_tls: bool  # smtps://
    starttls: bool  # smtp:// unless ?disable_starttls=true; then mandatory, as in Kratos
    skip_ssl_verify: bool
    server_name: str  # the name the TLS certificate must carry
    local_name: str  # HELO/EHLO
    from_address: str
    from_name: str
    headers: Mapping[str, str]
    client_cert_path: str
    client_key_path: str

    @classmethod
    def from_config(cls, config: Config) -> SMTPSettings:
        smtp = config.get("courier.smtp") or {}
        uri = urlsplit(smtp.get("connection_uri") or "")
        if not uri.hostname:
            raise DeliveryError(message="Courier tried to deliver an email but courier.smtp.connection_uri is not set!")
        query = {key: values[-1] for key, values in parse_qs(uri.query).items()}
        implicit = uri.scheme == "smtps"
        return cls(
            host=uri.hostname,
            port=uri.port or (465 if implicit else 25),
            username=unquote(uri.username or ""),
            password=unquote(uri.password or ""),
            implicit_tls=implicit,
            starttls=not implicit and query.get("disable_starttls", "") not in _TRUE,
            skip_ssl_verify=query.get("skip_ssl_verify", "") in _TRUE,
            server_name=query.get("server_name") or uri.hostname,
            local_name=smtp.get("local_name") or "localhost",
            from_address=smtp.get("from_address") or "no-reply@ory.kratos.sh",
            from_name=smtp.get("from_name") or "",
            headers=smtp.get("headers") or {},
            client_cert_path=smtp.get("client_cert_path") or "",
            client_key_path=smtp.get("client_key_path") or "",
        )

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.skip_ssl_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert_path and self.client_key_path:
            context.load_cert_chain(self.client_cert_path, self.client_key_path)
        return context


class _SMTP(smtplib.SMTP):
    """smtplib checks the certificate against the host it dialled; Kratos's `server_name` may differ."""

    def __init__(self, *args: Any, server_name: str, **kwargs: Any) -> None:
        self.server_name = server_name
        super().__init__(*args, **kwargs)

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self._host = self.server_name  # smtplib passes `_host` as the TLS server_hostname
        return super().starttls(*args, **kwargs)


class _SMTPS(smtplib.SMTP_SSL):
    def __init__(self, *args: Any, server_name: str, **kwargs: Any) -> None:
        self.server_name = server_name
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        sock = super(smtplib.SMTP_SSL, self)._get_socket(host, port, timeout)
        return self.context.wrap_socket(sock, server_hostname=self.server_name)


class SMTPChannel:
    id = "email"

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings

    def send(self, message: Message) -> None:
        email = self._compose(message)
        client = self._connect()
        try:
            client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            code = max(code for code, _ in error.recipients.values())
            raise _smtp_failure(error, permanent=code >= 500) from error
        except smtplib.SMTPResponseException as error:
            # A 5xx reply refuses this message for good (Kratos abandons it); 4xx may pass later.
            raise _smtp_failure(error, permanent=error.smtp_code >= 500) from error
        except (OSError, smtplib.SMTPException) as error:
            raise _smtp_failure(error) from error
        finally:
            _close(client)

    def _compose(self, message: Message) -> EmailMessage:
        settings = self.settings
        email = EmailMessage()
        sender = settings.from_address
        email["From"] = formataddr((settings.from_name, sender)) if settings.from_name else sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        # A domain of our own: make_msgid's default asks DNS for this host's name on every message.
        email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
        for name, value in settings.headers.items():
            del email[name]  # configured headers replace ours, as gomail's SetHeader does
            email[name] = value
        email.set_content(message.body)
        if message.html_body:
            email.add_alternative(message.html_body, subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        common = {"local_hostname": settings.local_name, "timeout": TIMEOUT_SECONDS,
                  "server_name": settings.server_name}
        client: smtplib.SMTP | None = None
        try:
            if settings.implicit_tls:
                client = _SMTPS(settings.host, settings.port, context=settings.tls_context(), **common)
            else:
                client = _SMTP(settings.host, settings.port, **common)
                if settings.starttls:
                    client.ehlo()
                    if not client.has_extn("starttls"):
                        raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS, which is required "
                                                            "(add ?disable_starttls=true to allow cleartext)")
                    client.starttls(context=settings.tls_context())
            if settings.username:
                client.login(settings.username, settings.password)
        except (OSError, smtplib.SMTPException) as error:
            if client is not None:
                _close(client)
            # Failing to reach or greet the server is never the message's fault: retry it later.
            raise _smtp_failure(error) from error
        return client


def _smtp_failure(error: Exception, *, permanent: bool = False) -> DeliveryError:
    return DeliveryError("failed to send email via smtp", message=str(error) or type(error).__name__,
                         permanent=permanent)


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


# --- HTTP --------------------------------------------------------------------------------------


class HTTPChannel:
    def __init__(self, channel_id: str, request_config: Mapping[str, Any]) -> None:
        self.id = channel_id
        self.config = request_config

    def send(self, message: Message) -> None:
        headers = {"Content-Type": "application/json", **(self.config.get("headers") or {})}
        headers.update(_auth_headers(self.config.get("auth") or {}))
        method = (self.config.get("method") or "POST").upper()
        data = None if method == "TRACE" else _encode(_body(self.config.get("body") or "", message), headers)
        request = urllib.request.Request(self.config.get("url", ""), data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (configured URL)
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            error.read(_RESPONSE_LOG_LIMIT)
            error.close()
        except (OSError, ValueError) as error:
            raise DeliveryError(message=str(error)) from error
        if not 200 <= status < 300:
            raise DeliveryError(
                message=f"unable to dispatch mail delivery because upstream server replied with status code {status}")


def _auth_headers(auth: Mapping[str, Any]) -> dict[str, str]:
    config = auth.get("config") or {}
    if auth.get("type") == "basic_auth":
        token = base64.b64encode(f"{config['user']}:{config['password']}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    if auth.get("type") == "api_key":
        if config.get("in") == "cookie":
            return {"Cookie": f"{config['name']}={config['value']}"}
        return {config["name"]: config["value"]}
    return {}


def _body(body_uri: str, message: Message) -> dict[str, Any]:
    ctx = _template_input(message)
    if not body_uri or body_uri == _kratos_default_body_uri():
        return _default_body(ctx)
    try:
        source = fetch(body_uri).decode("utf-8")
        rendered = templates.render_http_body(source, ctx)
    except (OSError, ValueError, templates.TemplateError) as error:
        raise DeliveryError(message=f"cannot build the request body: {error}") from error
    try:
        document = json.loads(rendered)
    except json.JSONDecodeError as error:
        raise DeliveryError(message="the request body template did not render a JSON object (jsonnet bodies are "
                                    f"not supported; write a Django template that renders JSON): {error}") from error
    if not isinstance(document, dict):
        raise DeliveryError(message="the request body template did not render a JSON object")
    return document


def _template_input(message: Message) -> dict[str, Any]:
    """Kratos's `httpDataModel`: what its jsonnet body templates receive as `ctx`."""
    ctx: dict[str, Any] = {
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "template_type": message.template_type,
        "template_data": message.template_data,
        "message_type": message.type,
        "request_headers": {},
    }
    if message.html_body:
        ctx["html_body"] = message.html_body
    return ctx


def _default_body(ctx: dict[str, Any]) -> dict[str, Any]:
    """What Kratos's default body template (the schema default of `request_config.body`) emits."""
    data = ctx["template_data"] if isinstance(ctx["template_data"], dict) else {}
    fields = ("to", "recovery_code", "recovery_url", "verification_url", "verification_code")
    return {"recipient": ctx["recipient"], "template_type": ctx["template_type"],
            **{name: data.get(name) for name in fields}, "subject": ctx["subject"], "body": ctx["body"]}


@functools.cache
def _kratos_default_body_uri() -> str:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema["definitions"]["httpRequestConfig"]["properties"]["body"]["default"]


def _encode(document: dict[str, Any], headers: Mapping[str, str]) -> bytes:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.startswith(_FORM):
        return urlencode({key: "" if value is None else str(value) for key, value in document.items()}).encode()
    return json.dumps(document).encode()
