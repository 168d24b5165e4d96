"""Unit tests for the Kratos configuration loader and the DSN translation (no database)."""
from __future__ import annotations

import json
import logging
import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from kratos_project.config import (
    DEFAULT_IDENTITY_SCHEMA_PATH,
    ConfigError,
    get_config,
    load_config,
    parse_duration,
)
from kratos_project.dsn import database_settings

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "kratos"
EXAMPLES = sorted((REPO / "examples").glob("*.yml"))
COOKIE_SECRET = "cookie-secret-0123456789"


@pytest.fixture
def write_config(tmp_path: Path):
    """Writes a minimal valid config merged with `extra` and returns its path."""

    def write(extra: dict[str, Any] | None = None, *, base: bool = True) -> str:
        tree = {
            "dsn": "memory",
            "identity": {"schemas": [{"id": "default", "url": "file:///etc/kratos/identity.schema.json"}]},
            "selfservice": {"default_browser_return_url": "http://127.0.0.1:4455/"},
            "secrets": {"cookie": [COOKIE_SECRET]},
        } if base else {}
        tree.update(extra or {})
        path = tmp_path / "kratos.yml"
        path.write_text(yaml.safe_dump(tree))
        return str(path)

    return write


def config_error(path: str | None, env: dict[str, str] | None = None, **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {}, **kwargs)
    return caught.value


# --- DSN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dsn", [
    "memory",
    "sqlite://file::memory:?_fk=true&cache=shared",
    "sqlite://:memory:",
    "sqlite://file:test?mode=memory&_fk=true",
])
def test_in_memory_sqlite_dsns_share_one_memory_database(dsn: str) -> None:
    settings = database_settings(dsn)

    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == "file:kratos?mode=memory&cache=shared"


@pytest.mark.parametrize(("dsn", "name"), [
    ("sqlite:///var/lib/sqlite/db.sqlite?_fk=true&mode=rwc", "/var/lib/sqlite/db.sqlite"),
    ("sqlite://kratos.sqlite3?_fk=true&mode=rwc", "kratos.sqlite3"),
    ("sqlite3://data/kratos.db", "data/kratos.db"),
    ("sqlite://file:/srv/kratos.db?_fk=true", "/srv/kratos.db"),
])
def test_sqlite_file_dsn_drops_go_driver_parameters(dsn: str, name: str) -> None:
    assert database_settings(dsn) == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def test_sqlite_dsn_without_a_file_is_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        database_settings("sqlite://?_fk=true")
    assert caught.value.key == "dsn"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_dsn_keeps_sslmode_and_drops_pool_parameters(scheme: str) -> None:
    pool = "max_conns=20&max_idle_conns=4&max_conn_lifetime=1h"
    dsn = f"{scheme}://kra%40tos:p%40ss%2Fw0rd@db.internal:5433/kratos?sslmode=disable&{pool}"

    assert database_settings(dsn) == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "kratos",
        "USER": "kra@tos",
        "PASSWORD": "p@ss/w0rd",
        "HOST": "db.internal",
        "PORT": "5433",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"sslmode": "disable"},
    }


def test_postgres_dsn_with_unix_socket_and_default_port() -> None:
    settings = database_settings("postgres://kratos@/kratos?host=/run/postgresql")

    assert (settings["HOST"], settings["PORT"], settings["PASSWORD"]) == ("/run/postgresql", "", "")


def test_postgres_dsn_with_a_bad_port_does_not_echo_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        database_settings("postgres://kratos:hunter2-secret@db:port/kratos")
    assert caught.value.key == "dsn" and "hunter2" not in str(caught.value)


MYSQL_COMMON = {
    "ENGINE": "django.db.backends.mysql",
    "NAME": "kratos",
    "USER": "kratos",
    "PASSWORD": "s3cr@t",
    "CONN_MAX_AGE": 60,
    "CONN_HEALTH_CHECKS": True,
    "OPTIONS": {"charset": "utf8mb4"},
    "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
}


@pytest.mark.parametrize("dsn", [
    "mysql://kratos:s3cr%40t@tcp(mysqld:3306)/kratos?parseTime=true&multiStatements=true&max_conns=20",
    "mysql://kratos:s3cr@t@tcp(mysqld:3306)/kratos?parseTime=true",  # go-sql-driver splits at the last @
    "mysql://kratos:s3cr%40t@mysqld:3306/kratos",
])
def test_mysql_dsn_in_go_driver_and_url_forms(dsn: str) -> None:
    assert database_settings(dsn) == {**MYSQL_COMMON, "HOST": "mysqld", "PORT": "3306"}


def test_mysql_dsn_over_a_unix_socket() -> None:
    settings = database_settings("mysql://kratos:s3cr%40t@unix(/run/mysqld/mysqld.sock)/kratos")

    assert (settings["HOST"], settings["PORT"]) == ("", "")
    assert settings["OPTIONS"] == {"charset": "utf8mb4", "unix_socket": "/run/mysqld/mysqld.sock"}


def test_mysql_tls_parameter_becomes_ssl_mode() -> None:
    settings = database_settings("mysql://kratos:pw@tcp([::1]:3306)/kratos?tls=true")

    assert (settings["HOST"], settings["PORT"]) == ("::1", "3306")
    assert settings["OPTIONS"] == {"charset": "utf8mb4", "ssl_mode": "VERIFY_IDENTITY"}


def test_mysql_custom_tls_config_is_rejected_rather_than_dropped() -> None:
    with pytest.raises(ConfigError) as caught:
        database_settings("mysql://kratos:pw@tcp(db:3306)/kratos?tls=custom")
    assert caught.value.key == "dsn"


@pytest.mark.parametrize("dsn", ["cockroach://root@crdb:26257/kratos?sslmode=disable", "cockroachdb://crdb/kratos"])
def test_cockroach_dsn_is_rejected(dsn: str) -> None:
    with pytest.raises(ConfigError) as caught:
        database_settings(dsn)
    assert caught.value.key == "dsn"
    assert caught.value.reason.startswith("CockroachDB is not supported: ")


@pytest.mark.parametrize("dsn", ["oracle://user:pw@db/kratos", "", "kratos.db"])
def test_unknown_dsn_is_rejected_naming_the_key(dsn: str) -> None:
    with pytest.raises(ConfigError) as caught:
        database_settings(dsn)
    assert caught.value.key == "dsn" and str(caught.value).startswith('config key "dsn": ')
    assert "pw" not in str(caught.value)


# --- loading without a file --------------------------------------------------------------------


def test_no_config_file_gives_defaults_bundled_schema_and_a_generated_secret(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="kratos.config"):
        config = load_config(None, {})

    assert config.dsn == "sqlite://kratos.sqlite3?_fk=true"
    assert config.default_schema_id == "default"
    assert config.schema("default").url == DEFAULT_IDENTITY_SCHEMA_PATH.as_uri()
    assert config.get("selfservice.default_browser_return_url") == f"{config.public.base_url}ui/"
    assert [hook["hook"] for hook in config.get("selfservice.flows.registration.after.password.hooks")] == ["session"]
    assert config.generated_secrets is True
    assert len(config.secrets_default[0]) == 32
    assert config.secrets_cookie == config.secrets_default
    assert config.secrets_cipher == () and config.secrets_pagination == ()
    assert "secrets" in caplog.text and config.secrets_default[0] not in caplog.text


def test_without_a_file_browsers_return_to_the_default_pages_home() -> None:
    served = load_config(None, {"SERVE_PUBLIC_PORT": "8433"}, dev=True)
    chosen = load_config(None, {"SELFSERVICE_DEFAULT_BROWSER_RETURN_URL": "https://app.example.org/"}, dev=True)

    assert served.get("selfservice.default_browser_return_url") == "http://127.0.0.1:8433/ui/"
    assert chosen.get("selfservice.default_browser_return_url") == "https://app.example.org/"


def test_generated_secret_differs_per_load() -> None:
    assert load_config(None, {}).secrets_default != load_config(None, {}).secrets_default


def test_schema_defaults_fill_the_tree_as_in_kratos() -> None:
    config = load_config(None, {})

    assert config.get("selfservice.flows.login.lifespan") == "1h"
    assert config.get("selfservice.methods.password.enabled") is True
    assert config.get("selfservice.methods.lookup_secret.enabled") is False
    assert config.get("session.cookie.name") == "ory_kratos_session"
    assert config.get("selfservice.flows.login.nope", "fallback") == "fallback"
    assert config.get("identity.schemas.0.id") == "default"
    assert config.get("identity.schemas.9.id") is None


def test_tree_is_read_only() -> None:
    config = load_config(None, {})

    with pytest.raises(TypeError):
        config.tree["dsn"] = "memory"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.get("selfservice")["flows"] = {}


def test_serve_defaults_in_dev_use_http_on_loopback() -> None:
    config = load_config(None, {}, dev=True)

    assert config.dev is True and config.get("dev") is True
    assert (config.public.host, config.public.port) == ("0.0.0.0", 4433)
    assert config.public.base_url == "http://127.0.0.1:4433/"
    assert (config.admin.port, config.admin.base_url) == (4434, "http://127.0.0.1:4434/")


def test_serve_defaults_outside_dev_use_https_on_the_host_name() -> None:
    config = load_config(None, {})

    assert config.dev is False
    assert config.public.base_url == f"https://{socket.gethostname()}:4433/"


def test_default_hasher_is_argon2_with_kratos_parameters() -> None:
    hashers = load_config(None, {}).hashers

    assert hashers.algorithm == "argon2"  # our choice; Kratos's schema default is bcrypt
    assert hashers.bcrypt_cost == 12
    assert hashers.argon2.memory_kib == 128 * 1024
    assert (hashers.argon2.iterations, hashers.argon2.salt_length, hashers.argon2.key_length) == (1, 16, 32)
    assert hashers.argon2.parallelism == 2 * (os.cpu_count() or 1)


# --- loading a file ----------------------------------------------------------------------------


def test_kratos_quickstart_config_loads() -> None:
    config = load_config(str(SHARED / "kratos.example.yml"), {})

    assert config.dsn == "memory"
    assert config.public.base_url == "http://127.0.0.1:4433/"
    assert config.admin.base_url == "http://kratos:4434/"
    assert config.schemas == (config.schema("default"),)
    assert config.secrets_cookie == ("PLEASE-CHANGE-ME-I-AM-VERY-INSECURE",)
    assert config.secrets_cipher == ("32-LONG-SECRET-NOT-SECURE-AT-ALL",)
    assert config.generated_secrets is False
    assert config.get("selfservice.flows.login.lifespan") == "10m"
    assert config.get("selfservice.methods.lookup_secret.enabled") is True
    assert config.hashers.algorithm == "bcrypt"


def test_bcrypt_cost_below_12_only_applies_in_dev() -> None:
    path = str(SHARED / "kratos.example.yml")  # bcrypt.cost: 8

    assert load_config(path, {}).hashers.bcrypt_cost == 12
    assert load_config(path, {}, dev=True).hashers.bcrypt_cost == 8


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shipped_examples_validate_against_kratos_schema(path: Path) -> None:
    schema = json.loads((SHARED / "config.schema.json").read_text())
    registry = Registry().with_resource("ory://tracing-config", DRAFT7.create_resource({"type": "object"}))
    validator = Draft7Validator(schema, registry=registry)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(yaml.safe_load(path.read_text()))]

    assert errors == []
    config = load_config(str(path), {})
    assert config.generated_secrets is False
    assert config.schema("default").url == "file://./examples/identity.schema.json"
    database_settings(config.dsn)


def test_shipped_examples_cover_sqlite_and_postgres() -> None:
    assert {p.name for p in EXAMPLES} >= {"kratos.yml", "kratos.postgres.yml"}


def test_bundled_schema_copy_is_kratos_schema() -> None:
    ours = REPO / "kratos_project" / "config.schema.json"
    assert json.loads(ours.read_text()) == json.loads((SHARED / "config.schema.json").read_text())


@pytest.mark.parametrize(
    "path", [DEFAULT_IDENTITY_SCHEMA_PATH, REPO / "examples" / "identity.schema.json"], ids=lambda p: p.parent.name
)
def test_identity_schemas_satisfy_kratos_meta_schema(path: Path) -> None:
    meta = json.loads((SHARED / "identity_meta.schema.json").read_text())
    extension = json.loads((SHARED / "identity_extension.schema.json").read_text())
    # jsonschema itself supplies the draft-07 meta-schema the meta-schema refers to.
    registry = Registry().with_resource("ory://identity-extension", DRAFT7.create_resource(extension))

    Draft7Validator(meta, registry=registry).validate(json.loads(path.read_text()))


def test_json_config_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "kratos.json"
    path.write_text(json.dumps({
        "dsn": "memory",
        "identity": {"schemas": [{"id": "default", "url": "base64://e30"}]},
        "selfservice": {"default_browser_return_url": "http://127.0.0.1:4455/"},
    }))

    assert load_config(str(path), {}).dsn == "memory"


def test_configured_base_url_gains_a_trailing_slash(write_config) -> None:
    path = write_config({"serve": {"public": {"base_url": "https://auth.example.org/kratos"}}})

    assert load_config(path, {}).public.base_url == "https://auth.example.org/kratos/"


def test_dev_key_in_file_enables_dev(write_config) -> None:
    assert load_config(write_config({"dev": True}), {}).dev is True


@pytest.mark.parametrize(("memory", "kib"), [("64MB", 65536), ("1GB", 1 << 20), ("512KB", 512), ("2097152B", 2048)])
def test_argon2_memory_is_parsed_to_kib(write_config, memory: str, kib: int) -> None:
    path = write_config({"hashers": {"argon2": {"memory": memory, "parallelism": 3, "iterations": 2}}})

    argon2 = load_config(path, {}).hashers.argon2
    assert (argon2.memory_kib, argon2.parallelism, argon2.iterations) == (kib, 3, 2)


def test_argon2_memory_with_trailing_garbage_names_the_key(write_config) -> None:
    error = config_error(write_config({"hashers": {"argon2": {"memory": "128MBps"}}}))

    assert error.key == "hashers.argon2.memory"


def test_cookie_secrets_also_serve_as_default_secrets(write_config) -> None:
    config = load_config(write_config(), {})

    assert config.secrets_cookie == config.secrets_default == (COOKIE_SECRET,)
    assert config.generated_secrets is False


def test_schema_lookup_and_selectable_flag(write_config) -> None:
    schemas = [
        {"id": "default", "url": "file:///a.json"},
        {"id": "staff", "url": "https://x.example/s.json", "selfservice_selectable": True},
    ]
    config = load_config(write_config({"identity": {"schemas": schemas}}), {})

    assert config.schema("staff").selfservice_selectable is True
    assert config.schema("default").selfservice_selectable is False
    assert config.schema("missing") is None


# --- errors ------------------------------------------------------------------------------------


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    error = config_error(str(tmp_path / "absent.yml"))

    assert error.key == "" and "absent.yml" in str(error)


@pytest.mark.parametrize(("content", "words"), [("- a\n- b\n", "mapping"), ("dsn: [unclosed\n", "YAML")])
def test_file_that_is_not_a_mapping_is_a_config_error(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "kratos.yml"
    path.write_text(content)

    assert words in str(config_error(str(path)))


def test_bad_value_names_the_key_and_reason(write_config) -> None:
    error = config_error(write_config({"serve": {"public": {"port": 70000}}}))

    assert error.key == "serve.public.port"
    assert str(error) == 'config key "serve.public.port": 70000 is greater than the maximum of 65535'


def test_unknown_key_names_the_key(write_config) -> None:
    error = config_error(write_config({"serve": {"public": {"prot": 4433}}}))

    assert error.key == "serve.public.prot"
    assert "'prot' was unexpected" in error.reason


def test_bad_value_in_a_list_names_the_index(write_config) -> None:
    error = config_error(write_config({"identity": {"schemas": [{"id": "default"}]}}))

    assert error.key == "identity.schemas.0.url"


def test_file_without_required_keys_fails_as_in_kratos(write_config) -> None:
    identity = {"schemas": [{"id": "default", "url": "file:///x.json"}]}

    error = config_error(write_config({"identity": identity}, base=False))

    assert error.key in {"dsn", "selfservice", "selfservice.default_browser_return_url"}
    assert "required" in error.reason


def test_too_short_secret_is_reported_without_its_value(write_config) -> None:
    error = config_error(write_config({"secrets": {"cookie": ["tiny-secret"]}}))

    assert error.key == "secrets.cookie.0"
    assert "tiny-secret" not in str(error)


def test_default_schema_id_must_name_a_configured_schema(write_config) -> None:
    identity = {"default_schema_id": "customer", "schemas": [{"id": "default", "url": "file:///x.json"}]}

    error = config_error(write_config({"identity": identity}))

    assert error.key == "identity.default_schema_id"
    assert "customer" in error.reason


# --- environment overrides ---------------------------------------------------------------------


def test_env_overrides_dsn(write_config) -> None:
    assert load_config(write_config(), {"DSN": "postgres://u:p@db/kratos"}).dsn == "postgres://u:p@db/kratos"


def test_env_overrides_apply_without_a_file() -> None:
    assert load_config(None, {"DSN": "memory"}).dsn == "memory"


def test_env_port_is_cast_to_integer(write_config) -> None:
    config = load_config(write_config(), {"SERVE_PUBLIC_PORT": "4533", "SERVE_ADMIN_HOST": "127.0.0.1"})

    assert config.public.port == 4533 and config.get("serve.public.port") == 4533
    assert config.admin.host == "127.0.0.1"


def test_env_secrets_as_comma_list_or_json(write_config) -> None:
    secrets = ["first-secret-0123456789", "second-secret-0123456789"]

    for value in (",".join(secrets), json.dumps(secrets)):
        assert load_config(write_config(), {"SECRETS_COOKIE": value}).secrets_cookie == tuple(secrets)


def test_env_indexed_secret_replaces_one_element(write_config) -> None:
    path = write_config({"secrets": {"cookie": ["old-secret-0123456789", "older-secret-0123456789"]}})

    config = load_config(path, {"SECRETS_COOKIE_0": "new-secret-0123456789"})

    assert config.secrets_cookie == ("new-secret-0123456789", "older-secret-0123456789")


def test_env_indexed_secret_applies_after_the_whole_list(write_config) -> None:
    env = {"SECRETS_COOKIE_1": "second-secret-0123456789", "SECRETS_COOKIE": "first-secret-0123456789"}

    config = load_config(write_config(), env)

    assert config.secrets_cookie == ("first-secret-0123456789", "second-secret-0123456789")


def test_env_identity_schemas_as_json(write_config) -> None:
    schemas = [
        {"id": "customer", "url": "file:///etc/kratos/customer.json"},
        {"id": "default", "url": "base64://e30"},
    ]
    env = {"IDENTITY_SCHEMAS": json.dumps(schemas), "IDENTITY_DEFAULT_SCHEMA_ID": "customer"}

    config = load_config(write_config(), env)

    assert config.default_schema_id == "customer"
    assert [(s.id, s.url) for s in config.schemas] == [(s["id"], s["url"]) for s in schemas]


def test_env_indexed_identity_schema_field(write_config) -> None:
    url = "https://schemas.example.org/person.json"

    assert load_config(write_config(), {"IDENTITY_SCHEMAS_0_URL": url}).schema("default").url == url


def test_env_key_with_underscore_in_its_name(write_config) -> None:
    config = load_config(write_config(), {"SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED": "true"})

    assert config.get("selfservice.methods.lookup_secret.enabled") is True


def test_env_deep_keys_are_cast_to_schema_types(write_config) -> None:
    env = {
        "SELFSERVICE_METHODS_PASSWORD_CONFIG_MIN_PASSWORD_LENGTH": "12",
        "SELFSERVICE_FLOWS_LOGIN_UI_URL": "https://app.example.org/login",
        "SERVE_PUBLIC_CORS_ALLOWED_ORIGINS": "https://a.example.org,https://b.example.org",
    }

    config = load_config(write_config(), env)

    assert config.get("selfservice.methods.password.config.min_password_length") == 12
    assert config.get("selfservice.flows.login.ui_url") == "https://app.example.org/login"
    assert config.get("serve.public.cors.allowed_origins") == ("https://a.example.org", "https://b.example.org")


def test_unknown_env_vars_are_ignored(write_config) -> None:
    env = {"PATH": "/usr/bin", "HOME": "/root", "SERVE_PUBLIC_PROT": "1", "KRATOS_CONFIG": "x"}

    config = load_config(write_config(), env)

    assert config.public.port == 4433


@pytest.mark.parametrize(("env", "key"), [
    ({"SERVE_PUBLIC_PORT": "http"}, "serve.public.port"),
    ({"SERVE_PUBLIC_PORT": "70000"}, "serve.public.port"),
    ({"SELFSERVICE_METHODS_TOTP_ENABLED": "yes please"}, "selfservice.methods.totp.enabled"),
    ({"IDENTITY_SCHEMAS": "[{not json"}, "identity.schemas"),
])
def test_bad_env_value_names_the_key(write_config, env: dict[str, str], key: str) -> None:
    error = config_error(write_config(), env)

    assert error.key == key and key in str(error)


# --- get_config --------------------------------------------------------------------------------


@pytest.fixture
def fresh_get_config():
    """get_config without its cache, so the process-wide cached Config (Django settings') is kept."""
    return get_config.__wrapped__


def test_get_config_reads_config_file_and_dev_from_environment(monkeypatch, write_config, fresh_get_config) -> None:
    monkeypatch.setenv("KRATOS_CONFIG", write_config())
    monkeypatch.setenv("KRATOS_DEV", "true")
    monkeypatch.setenv("SERVE_ADMIN_PORT", "4544")

    config = fresh_get_config()

    assert config.dev is True and config.admin.port == 4544
    assert config.secrets_cookie == (COOKIE_SECRET,)


def test_get_config_with_empty_kratos_config_uses_defaults(monkeypatch, fresh_get_config) -> None:
    monkeypatch.setenv("KRATOS_CONFIG", "")
    monkeypatch.delenv("KRATOS_DEV", raising=False)

    config = fresh_get_config()

    assert config.dev is False
    assert config.schema("default").url == DEFAULT_IDENTITY_SCHEMA_PATH.as_uri()


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("15m", timedelta(minutes=15)),
    ("500ms", timedelta(milliseconds=500)),
    ("24h", timedelta(days=1)),
    ("1m30s", timedelta(seconds=90)),
    ("1.5h", timedelta(minutes=90)),
    ("-2s", timedelta(seconds=-2)),
    ("10us", timedelta(microseconds=10)),
    ("10µs", timedelta(microseconds=10)),
    ("1500ns", timedelta(microseconds=1)),
    ("0", timedelta(0)),
    ("0s", timedelta(0)),
    ("2562047h", timedelta(hours=2562047)),  # Go's longest whole hours
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "1d", "h", "1h 30m", "abc", "--1s", "2562048h", "-2562048h",
                                  "2997130861525374051233494h"])
def test_parse_duration_rejects_non_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
