"""Kratos's `dsn` → a Django `DATABASES["default"]` entry.

Kratos users write Go-driver DSNs: `memory`, `sqlite://file.db?_fk=true&mode=rwc`,
`postgres://…?sslmode=disable&max_conns=20`, `mysql://user:pass@tcp(host:3306)/db?parseTime=true`.
We accept those forms unchanged and drop the query parameters that only tune Go's connection pool.
Error messages never repeat the DSN: it usually holds a password.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from kratos_project.config import ConfigError

# Server databases keep connections for a minute, checked before reuse; SQLite opens are cheap.
_SERVER_CONN_MAX_AGE = 60

# Kratos turns `memory` into a shared-cache in-memory SQLite database. Shared cache matters here
# too: each Django thread has its own connection, and all of them must see the same tables.
_MEMORY_NAME = "file:kratos?mode=memory&cache=shared"

# libpq parameters worth passing on; Kratos's pool knobs (max_conns, max_idle_conns, …) are dropped.
_POSTGRES_OPTIONS = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "application_name",
    "connect_timeout", "target_session_attrs", "options",
})

# go-sql-driver/mysql `tls=` values → mysqlclient `ssl_mode`; dropping a TLS demand silently would
# downgrade the connection, so other values (named custom TLS configs) are rejected.
_MYSQL_TLS = {"true": "VERIFY_IDENTITY", "skip-verify": "REQUIRED", "preferred": "PREFERRED", "false": None}

_MYSQL_ADDRESS = re.compile(r"(?P<net>\w+)\((?P<addr>.*)\)")


def database_settings(dsn: str) -> dict[str, Any]:
    scheme = dsn.partition("://")[0].lower() if "://" in dsn else dsn
    if scheme in ("memory", "sqlite", "sqlite3"):
        return _sqlite(dsn)
    if scheme in ("postgres", "postgresql"):
        return _postgres(dsn)
    if scheme == "mysql":
        return _mysql(dsn)
    if scheme in ("cockroach", "cockroachdb", "crdb"):
        raise ConfigError("dsn", "CockroachDB is not supported: use PostgreSQL, MySQL/MariaDB or SQLite")
    reason = f"unsupported database {scheme!r}: use memory, sqlite://, postgres:// or mysql://"
    raise ConfigError("dsn", reason)


def _sqlite(dsn: str) -> dict[str, Any]:
    path, _, query = dsn.partition("://")[2].partition("?")
    path = path.removeprefix("file:")  # Go's sqlite3 driver takes file: URIs too
    in_memory = dsn == "memory" or path == ":memory:" or "memory" in parse_qs(query).get("mode", ())
    if not (in_memory or path):
        raise ConfigError("dsn", "the SQLite DSN names no database file")
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _MEMORY_NAME if in_memory else unquote(path),
        "CONN_MAX_AGE": 0,
        # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers wait
        # (up to `timeout` seconds) instead of failing with "database is locked" mid-transaction.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def _postgres(dsn: str) -> dict[str, Any]:
    url = _split(dsn)
    query = {key: values[-1] for key, values in parse_qs(url.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(url.path.lstrip("/")),
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or query.get("host", ""),  # ?host=/run/postgresql for a unix socket
        "PORT": str(url.port or ""),
        "CONN_MAX_AGE": _SERVER_CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {key: value for key, value in query.items() if key in _POSTGRES_OPTIONS},
    }


def _split(dsn: str) -> SplitResult:
    try:
        url = urlsplit(dsn)
        url.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError("dsn", "the database URL is malformed (check the host and port)") from None
    return url


def _mysql(dsn: str) -> dict[str, Any]:
    """Both `user:pass@tcp(host:port)/db` (go-sql-driver) and `user:pass@host:port/db` (URL)."""
    rest = dsn.partition("://")[2]
    head, slash, tail = rest.rpartition("/")
    if not slash:
        raise ConfigError("dsn", "the MySQL DSN has no /<database>")
    credentials, _, address = head.rpartition("@")  # the password may itself contain "@"
    user, _, password = credentials.partition(":")
    name, _, query = tail.partition("?")
    options = {"charset": "utf8mb4", **_mysql_tls(parse_qs(query))}
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": unquote(name),
        "USER": unquote(user),
        "PASSWORD": unquote(password),
        **_mysql_address(address, options),
        "CONN_MAX_AGE": _SERVER_CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
        "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
    }


def _mysql_address(address: str, options: dict[str, Any]) -> dict[str, str]:
    if match := _MYSQL_ADDRESS.fullmatch(address):
        if match["net"] == "unix":
            options["unix_socket"] = match["addr"]
            return {"HOST": "", "PORT": ""}
        address = match["addr"]
    host, _, port = address.rpartition(":") if address.rfind(":") > address.rfind("]") else (address, "", "")
    if port and not port.isdigit():
        raise ConfigError("dsn", "the MySQL port is not a number")
    return {"HOST": host.strip("[]"), "PORT": port}


def _mysql_tls(query: dict[str, list[str]]) -> dict[str, str]:
    tls = query.get("tls", ["false"])[-1]
    if tls not in _MYSQL_TLS:
        reason = f"MySQL tls={tls!r} is not supported: use true, skip-verify, preferred or false"
        raise ConfigError("dsn", reason)
    mode = _MYSQL_TLS[tls]
    return {"ssl_mode": mode} if mode else {}
