"""The real server for end-to-end tests: `manage.py serve` (two gunicorn masters) on free ports.

These tests talk to the server only over HTTP, through Ory's own SDK (`ory_kratos_client`) or plain
`urllib`, so nothing here touches the test process's Django database. The server gets a database
of its own (a temp SQLite file, or a fresh database on the PostgreSQL/MySQL server named by the
`DSN` environment variable, as CI runs the suite), with the production settings module.
Deselect them with `-m "not compat"`.

`kratos_mail_server` is a second such server, for the flows that send mail: it runs
`serve --watch-courier`, so its courier worker delivers over SMTP to `inbox`, a real SMTP server
(aiosmtpd) in this process, and has verification, recovery and the link method switched on.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import ory_kratos_client
import psycopg
import pytest
import yaml

from kratos_project.dsn import database_settings
from tests.courier.conftest import SMTPServer, free_port

ROOT = Path(__file__).resolve().parents[2]
TEST_CONFIG = ROOT / "tests" / "kratos.test.yml"
READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 20
# The courier worker polls every 100 ms (`courier_config`), so mail arrives well within this.
MAIL_TIMEOUT_SECONDS = 15
# Process-wide settings the test run sets that must not leak into the server: it runs with the
# production settings module and reads its database and ports from the config file only.
_TEST_ONLY_ENV = ("DJANGO_SETTINGS_MODULE", "KRATOS_CONFIG", "KRATOS_DEV", "DSN")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "compat: end to end against the real `manage.py serve` (-m 'not compat')")


@dataclass(frozen=True)
class KratosServer:
    public_url: str  # no trailing slash: the SDK appends paths that start with "/"
    admin_url: str
    config: Path | None  # its kratos.yml, for `manage(server, ...)`; None: it runs without one


def manage(server: KratosServer, *args: str, env: Mapping[str, str] | None = None) -> str:
    """`manage.py <args> --config <the server's config>`, as an operator runs it beside the server;
    returns what it printed, failing the test if it exits non-zero."""
    assert server.config is not None, "a server without a config file"
    result = subprocess.run([sys.executable, "manage.py", *args, "--config", str(server.config)], cwd=ROOT,
                            env={**_server_env(), **(env or {})}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def _free_ports(count: int) -> list[int]:
    """Ports the kernel considers free; all probes stay bound until the end so they differ."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def _with_database_name(dsn: str, name: str) -> str:
    """Swap the database name, the last path segment of both URL and go-sql-driver DSNs."""
    base, question, query = dsn.partition("?")
    return f"{base.rpartition('/')[0]}/{name}{question}{query}"


@contextmanager
def _dedicated_database(tmp: Path) -> Iterator[str]:
    """A database only this server uses, dropped afterwards; yields its DSN."""
    dsn = os.environ.get("DSN", "")
    scheme = dsn.partition("://")[0].lower()
    if scheme not in ("postgres", "postgresql", "mysql"):
        yield f"sqlite://{tmp / 'kratos.sqlite3'}?_fk=true"
        return
    name = f"kratos_compat_{secrets.token_hex(6)}"
    server = database_settings(dsn)
    if scheme == "mysql":
        run_on_server, create, drop = _mysql_admin, "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", ""
    else:
        # FORCE: a server that had to be killed may leave connections behind.
        run_on_server, create, drop = _postgres_admin, "", "WITH (FORCE)"
    run_on_server(server, f"CREATE DATABASE {name} {create}")
    try:
        yield _with_database_name(dsn, name)
    finally:
        run_on_server(server, f"DROP DATABASE IF EXISTS {name} {drop}")


def _postgres_admin(settings: dict[str, Any], statement: str) -> None:
    # CREATE/DROP DATABASE cannot run in a transaction, and not while connected to that database.
    with psycopg.connect(dbname="postgres", user=settings["USER"], password=settings["PASSWORD"] or None,
                         host=settings["HOST"] or None, port=settings["PORT"] or None,
                         autocommit=True, **settings["OPTIONS"]) as connection:
        connection.execute(statement)


def _mysql_admin(settings: dict[str, Any], statement: str) -> None:
    import MySQLdb  # the optional `mysql` extra: only needed when CI points DSN at MariaDB

    connection_args: dict[str, Any] = {"user": settings["USER"], "password": settings["PASSWORD"]}
    if settings["HOST"]:
        connection_args["host"] = settings["HOST"]
    if settings["PORT"]:
        connection_args["port"] = int(settings["PORT"])
    if socket_path := settings["OPTIONS"].get("unix_socket"):
        connection_args["unix_socket"] = socket_path
    connection = MySQLdb.connect(**connection_args)
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def _merged(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` merged in, key by key into nested mappings."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _write_config(path: Path, dsn: str, public_port: int, admin_port: int,
                  overrides: Mapping[str, Any]) -> None:
    config = yaml.safe_load(TEST_CONFIG.read_text(encoding="utf-8"))
    config["dsn"] = dsn
    # Native registration answers with a session and its token only with this hook, which the
    # self-service tests need; the identity tests never register through self-service.
    flows = config.setdefault("selfservice", {}).setdefault("flows", {})
    flows.setdefault("registration", {})["after"] = {"password": {"hooks": [{"hook": "session"}]}}
    config["serve"] = {
        "public": {"port": public_port, "base_url": f"http://127.0.0.1:{public_port}/"},
        "admin": {"port": admin_port, "base_url": f"http://127.0.0.1:{admin_port}/"},
    }
    path.write_text(yaml.safe_dump(_merged(config, overrides)), encoding="utf-8")


def _server_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _TEST_ONLY_ENV}
    env["DJANGO_SETTINGS_MODULE"] = "kratos_project.settings"
    return env


def _answers_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait_until_ready(process: subprocess.Popen[bytes], server: KratosServer, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    pending = [server.public_url, server.admin_url]
    while pending and time.monotonic() < deadline and process.poll() is None:
        pending = [url for url in pending if not _answers_ready(url)]
        if pending:
            time.sleep(0.2)
    if pending:
        _terminate(process)
        pytest.fail(f"{pending} not ready within {READY_TIMEOUT_SECONDS}s "
                    f"(exit code {process.returncode}):\n{log.read_text(errors='replace')}")


def _terminate(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM, as an orchestrator stops a container; True if serve exited within the timeout."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the session we started: serve and its gunicorns
        process.wait()
        return False


def _stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """Serve must stop both listeners and exit 0 on SIGTERM: a clean shutdown, not a crash."""
    if not _terminate(process):
        pytest.fail(f"serve did not stop within {STOP_TIMEOUT_SECONDS}s of SIGTERM:\n{log.read_text(errors='replace')}")
    assert process.returncode == 0, f"serve exited with {process.returncode}:\n{log.read_text(errors='replace')}"


@contextmanager
def running_server(tmp: Path, overrides: Mapping[str, Any] | Callable[[KratosServer], Mapping[str, Any]] | None = None,
                   *serve_options: str) -> Iterator[KratosServer]:
    """`manage.py serve` on free ports with a database of its own, the test config plus `overrides`
    (or what `overrides(server)` returns, for values naming the server's own URLs)."""
    config = tmp / "kratos.yml"
    public_port, admin_port = _free_ports(2)
    server = KratosServer(f"http://127.0.0.1:{public_port}", f"http://127.0.0.1:{admin_port}", config)
    if callable(overrides):
        overrides = overrides(server)
    with _dedicated_database(tmp) as dsn:
        _write_config(config, dsn, public_port, admin_port, overrides or {})
        manage(server, "migrate", "--noinput")
        with _serving(server, ["--config", str(config), *serve_options], _server_env(), cwd=ROOT, log=tmp / "server.log"):
            yield server


@contextmanager
def bare_dev_server(cwd: Path) -> Iterator[KratosServer]:
    """`serve --dev` with no config file at all, as `./scripts/serve` runs on a fresh checkout: SQLite
    in `cwd`, only the ports set (by environment variables, as Kratos reads them). Its log is
    `cwd/server.log`."""
    public_port, admin_port = _free_ports(2)
    server = KratosServer(f"http://127.0.0.1:{public_port}", f"http://127.0.0.1:{admin_port}", None)
    env = {**_server_env(), "SERVE_PUBLIC_PORT": str(public_port), "SERVE_ADMIN_PORT": str(admin_port)}
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "--dev"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"migrate failed:\n{result.stdout}{result.stderr}"
    with _serving(server, ["--dev", "--workers", "1"], env, cwd=cwd, log=cwd / "server.log"):
        yield server


@contextmanager
def _serving(server: KratosServer, serve_args: list[str], env: Mapping[str, str], cwd: Path,
             log: Path) -> Iterator[None]:
    """`manage.py serve <serve_args>` until the block ends; it must then stop cleanly on SIGTERM."""
    with log.open("ab") as output:
        # A session of its own so a hung server can be killed with its gunicorn children.
        process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", *serve_args], cwd=cwd,
                                   env=dict(env), stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_until_ready(process, server, log)
    try:
        yield
    finally:
        _stop(process, log)


@pytest.fixture(scope="session")
def kratos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KratosServer]:
    with running_server(tmp_path_factory.mktemp("kratos-server")) as server:
        yield server


class Inbox:
    """The mail a real SMTP server received from the courier worker, a process of its own: waits
    for it with a bounded poll."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    def to(self, address: str) -> list[EmailMessage]:
        return [mail for mail in self.server.mails if mail["To"] == address]

    def wait_for(self, address: str, count: int = 1) -> list[EmailMessage]:
        """The first `count` mails to `address`, once they have all arrived."""
        deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
        while len(mails := self.to(address)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(mails)} of {count} mail(s) to {address} within {MAIL_TIMEOUT_SECONDS}s; "
                            f"all: {[(m['To'], m['Subject']) for m in self.server.mails]}")
            time.sleep(0.05)
        return mails[:count]


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    server = SMTPServer(free_port()).start(auth_require_tls=False)  # plain SMTP, no STARTTLS offered
    yield Inbox(server)
    server.stop()


def courier_config(smtp_port: int) -> dict[str, Any]:
    """The courier delivering to the test SMTP server on `smtp_port`, polling every 100 ms."""
    return {
        "courier": {
            "smtp": {"connection_uri": f"smtp://127.0.0.1:{smtp_port}/?disable_starttls=true",
                     "from_address": "accounts@example.org"},
            "worker": {"pull_wait": "100ms"},
        },
    }


def _mail_config(smtp_port: int) -> dict[str, Any]:
    ui = "http://127.0.0.1:4455"
    return {
        **courier_config(smtp_port),
        "feature_flags": {"use_continue_with_transitions": True},  # native apps get the recovered session
        "selfservice": {
            "methods": {"link": {"enabled": True}},
            "flows": {
                "verification": {"enabled": True, "use": "code", "ui_url": f"{ui}/verification"},
                "recovery": {"enabled": True, "use": "code", "ui_url": f"{ui}/recovery"},
                "settings": {"ui_url": f"{ui}/settings"},
                # A native app learns the verification flow the registration started.
                "registration": {"after": {"password": {"hooks": [{"hook": "session"},
                                                                  {"hook": "show_verification_ui"}]}}},
            },
        },
    }


@pytest.fixture(scope="module")
def kratos_mail_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[KratosServer]:
    """A server whose courier worker (`serve --watch-courier`) delivers to `inbox`; one per module.

    One worker per listener: its tests send one request at a time, and it boots in half the time."""
    with running_server(tmp_path_factory.mktemp("kratos-mail-server"), _mail_config(inbox.server.port),
                         "--watch-courier", "--workers", "1") as server:
        yield server


@pytest.fixture
def admin_client(kratos_server: KratosServer) -> Iterator[ory_kratos_client.ApiClient]:
    with ory_kratos_client.ApiClient(ory_kratos_client.Configuration(host=kratos_server.admin_url)) as client:
        yield client


@pytest.fixture
def public_client(kratos_server: KratosServer) -> Iterator[ory_kratos_client.ApiClient]:
    with ory_kratos_client.ApiClient(ory_kratos_client.Configuration(host=kratos_server.public_url)) as client:
        yield client


@pytest.fixture
def identity_api(admin_client: ory_kratos_client.ApiClient) -> ory_kratos_client.IdentityApi:
    return ory_kratos_client.IdentityApi(admin_client)


@pytest.fixture
def frontend_api(public_client: ory_kratos_client.ApiClient) -> ory_kratos_client.FrontendApi:
    return ory_kratos_client.FrontendApi(public_client)


@pytest.fixture
def unique_email() -> Callable[..., str]:
    """The server's database lives for the whole session, so each test needs identifiers of its own."""

    def make(label: str = "user") -> str:
        return f"{label}-{secrets.token_hex(4)}@example.org"

    return make
