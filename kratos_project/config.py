"""The Kratos configuration: Kratos's YAML format and environment overrides, typed and loaded once.

Layers, lowest first, as Kratos's koanf provider stacks them (`oryx/configx/provider.go`):

1. the defaults written in `config.schema.json` (Kratos's schema-defaults provider), with our
   product deviations on top (`_PRODUCT_DEFAULTS`);
2. only when no config file is given: `_NO_FILE_DEFAULTS`, so that `serve --dev` runs with nothing
   (and, once the env is read, a browser return URL on the default pages' home);
3. the config file (YAML, or JSON, which YAML parses);
4. environment variables named after key paths (`SERVE_PUBLIC_PORT`, `SECRETS_COOKIE_0`, ...).

The merged tree is validated against the schema; typed fields are read from it. Values Kratos
computes in Go rather than in the schema (base URLs, argon2 parallelism, a generated secret) are
computed beside their typed field below.

Identity schema `file://` URLs are kept as written. A relative one (`file://./examples/x.json`,
or Kratos's `file://path/to/x.json`) is resolved against the current working directory by the loader.
"""
from __future__ import annotations

import copy
import csv
import functools
import json
import logging
import os
import re
import secrets
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import environ
import yaml
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT7

from identities.hashing import Argon2Params, HasherParams

logger = logging.getLogger("kratos.config")

_HERE = Path(__file__).resolve().parent
SCHEMA_PATH = _HERE / "config.schema.json"
DEFAULT_IDENTITY_SCHEMA_PATH = _HERE / "default.schema.json"

# Kratos's schema defaults hashers.algorithm to bcrypt; we default to argon2 on purpose (memory-hard).
# Kratos's breached-password check (haveibeenpwned_enabled) defaults to on; here it is off, because
# its default source is a network API this product must work without (strategies/password/policy.py).
_PRODUCT_DEFAULTS: Mapping[str, Any] = {
    "hashers": {"algorithm": "argon2"},
    "selfservice": {"methods": {"password": {"config": {"haveibeenpwned_enabled": False}}}},
}

# Kratos requires these keys; without any config file we supply them so a bare `serve --dev` works,
# and, as Kratos's quickstart configures it, signing up also signs in.
_NO_FILE_DEFAULTS: Mapping[str, Any] = {
    "dsn": "sqlite://kratos.sqlite3?_fk=true",
    "identity": {
        "default_schema_id": "default",
        "schemas": [{"id": "default", "url": DEFAULT_IDENTITY_SCHEMA_PATH.as_uri()}],
    },
    "selfservice": {"flows": {"registration": {"after": {"password": {"hooks": [{"hook": "session"}]}}}}},
}

# Kratos omits these from traces (driver/config/config.go); we keep their values out of error messages.
_SENSITIVE_KEYS = ("dsn", "courier.smtp.connection_uri", "secrets")
_SENSITIVE_SEGMENTS = frozenset({"client_secret", "password"})


class ConfigError(Exception):
    """An unusable configuration; `str()` names the key and the reason."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f'config key "{key}": {reason}' if key else f"config: {reason}")


@dataclass(frozen=True, slots=True)
class ServeConfig:
    host: str
    port: int
    base_url: str  # always ends with "/"


@dataclass(frozen=True, slots=True)
class SchemaRef:
    id: str
    url: str
    selfservice_selectable: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    tree: Mapping[str, Any]  # validated, schema defaults included; nested mappings and tuples are read-only
    dev: bool
    dsn: str
    public: ServeConfig
    admin: ServeConfig
    default_schema_id: str
    schemas: tuple[SchemaRef, ...]
    hashers: HasherParams
    secrets_default: tuple[str, ...]
    secrets_cookie: tuple[str, ...]
    secrets_cipher: tuple[str, ...]
    secrets_pagination: tuple[str, ...]
    generated_secrets: bool

    def get(self, dotted: str, default: Any = None) -> Any:
        """Any key of the tree, e.g. `selfservice.flows.login.lifespan`; list items by index."""
        node: Any = self.tree
        for part in dotted.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, tuple) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return default
        return node

    def schema(self, schema_id: str) -> SchemaRef | None:
        return next((ref for ref in self.schemas if ref.id == schema_id), None)


# --- loading -----------------------------------------------------------------------------------


def load_config(path: str | None, env: Mapping[str, str], *, dev: bool = False) -> Config:
    """Read, merge, validate and type the configuration. No global state: `env` is passed in."""
    tree = _merge(_schema_defaults(), _PRODUCT_DEFAULTS)
    tree = _merge(tree, _read_file(path) if path else _NO_FILE_DEFAULTS)
    _apply_env(tree, env)
    if dev:
        tree["dev"] = True  # Kratos's --dev flag is the `dev` key
    if not path:
        # Nothing configured: a browser lands on the default pages' home, `<public base URL>ui/`.
        public = _serve(tree["serve"]["public"], bool(tree.get("dev")))
        tree.setdefault("selfservice", {}).setdefault("default_browser_return_url", f"{public.base_url}ui/")
    _validate(tree)
    return _build(tree)


@functools.cache
def get_config() -> Config:
    env = environ.Env()  # django-environ: the only reader of os.environ
    return load_config(
        env.str("KRATOS_CONFIG", default="") or None,
        env.ENVIRON,
        dev=env.bool("KRATOS_DEV", default=False),
    )


def _read_file(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError("", f"cannot read config file {path}: {error.strerror or error}") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError("", f"config file {path} is neither YAML nor JSON: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError("", f"config file {path} must hold a mapping, not {type(document).__name__}")
    return document


def _merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge as koanf does: mappings merge key by key, anything else (lists too) replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- the schema: validator, key paths, defaults ------------------------------------------------


@functools.cache
def _schema() -> Mapping[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Draft7Validator:
    # Kratos embeds the tracing schema from ory/x; we accept any object there.
    registry = Registry().with_resource("ory://tracing-config", DRAFT7.create_resource({"type": "object"}))
    return Draft7Validator(_schema(), registry=registry, format_checker=_format_checker())


def _format_checker() -> FormatChecker:
    """jsonschema's checkers plus `uri`/`uri-reference`, which it only checks with an extra package."""
    checker = FormatChecker()

    @checker.checks("uri", raises=ValueError)
    def is_uri(value: object) -> bool:
        return not isinstance(value, str) or bool(urlsplit(value).scheme)

    @checker.checks("uri-reference", raises=ValueError)
    def is_uri_reference(value: object) -> bool:
        return not isinstance(value, str) or urlsplit(value) is not None  # raises on e.g. "http://[::1"

    return checker


@dataclass(frozen=True, slots=True)
class _KeyPath:
    parts: tuple[str, ...]  # "#" stands for an array index
    kind: str  # string|integer|number|boolean|array|json|raw
    item_kind: str | None  # for arrays of scalars
    default: Any


@functools.cache
def _key_paths() -> Mapping[str, _KeyPath]:
    """Every key path of the schema by its env-normalised name (`_` → `.`), like jsonschemax.ListPaths."""
    found: dict[str, _KeyPath] = {}
    for key in _walk(_schema(), (), frozenset()):
        normalised = ".".join(key.parts).replace("_", ".")
        if normalised not in found or found[normalised].default is None:
            found[normalised] = key
    return MappingProxyType(found)


def _walk(node: Any, parts: tuple[str, ...], seen: frozenset[str]) -> Iterator[_KeyPath]:
    if not isinstance(node, Mapping):
        return
    kind = _kind(node)
    if parts and (kind is not None or "default" in node):
        yield _KeyPath(parts, kind or "raw", _item_kind(node), node.get("default"))
    ref = node.get("$ref")
    if ref and ref not in seen:
        yield from _walk(_resolve(ref), parts, seen | {ref})
    for keyword in ("if", "then", "else"):
        yield from _walk(node.get(keyword), parts, seen)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(keyword, ()):
            yield from _walk(sub, parts, seen)
    for name, sub in node.get("properties", {}).items():
        yield from _walk(sub, (*parts, name), seen)
    if isinstance(node.get("items"), Mapping):
        yield from _walk(node["items"], (*parts, "#"), seen)


def _resolve(ref: str) -> Mapping[str, Any]:
    prefix = "#/definitions/"
    return _schema()["definitions"][ref[len(prefix):]] if ref.startswith(prefix) else {"type": "object"}


def _kind(node: Mapping[str, Any]) -> str | None:
    if "const" in node:
        const = node["const"]
        return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(const), "json")
    types = node.get("type")
    if isinstance(types, str):
        return "json" if types == "object" else types
    return "json" if isinstance(types, list) and len(types) > 2 else None


def _item_kind(node: Mapping[str, Any]) -> str | None:
    items = node.get("items")
    if node.get("type") != "array" or not isinstance(items, Mapping):
        return None
    items = _resolve(items["$ref"]) if "$ref" in items else items
    kind = items.get("type")
    return kind if kind in ("string", "integer", "number", "boolean") else None


@functools.cache
def _schema_defaults() -> Mapping[str, Any]:
    """The schema's defaults as a tree; shared, so only ever read (`_merge` copies it)."""
    tree: dict[str, Any] = {}
    for key in _key_paths().values():
        # Kratos skips defaults inside arrays (koanf_schema_defaults.go).
        if key.default is not None and "#" not in key.parts:
            _set_path(tree, key.parts, key.default)
    return tree


def _set_path(tree: dict[str, Any], parts: Iterable[str | int], value: Any) -> None:
    """Set a value, creating mappings for names and lists for integer indices on the way."""
    steps = list(parts)
    node: Any = tree
    for step, following in zip(steps, steps[1:]):
        empty: Any = [] if isinstance(following, int) else {}
        node = _child(node, step, empty)
    last = steps[-1]
    if isinstance(node, list):
        node.extend([None] * (last + 1 - len(node)))
    if isinstance(value, Mapping) and isinstance(_get_child(node, last), Mapping):
        value = _merge(_get_child(node, last), value)
    node[last] = value


def _child(node: Any, step: str | int, empty: Any) -> Any:
    if isinstance(node, list):
        node.extend([None] * (step + 1 - len(node)))
    current = _get_child(node, step)
    if not isinstance(current, type(empty)):
        node[step] = current = empty
    return current


def _get_child(node: Any, step: str | int) -> Any:
    return node[step] if isinstance(node, list) else node.get(step)


# --- environment overrides (oryx/configx/koanf_env.go) -----------------------------------------


def _apply_env(tree: dict[str, Any], env: Mapping[str, str]) -> None:
    """Override keys from variables named like `SERVE_PUBLIC_PORT`; unknown variables are ignored.

    Names are matched against the schema's key paths with `_` read as `.` on both sides, so
    `SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED` finds `lookup_secret`. Whole values apply before
    indexed ones (`SECRETS_COOKIE` before `SECRETS_COOKIE_0`), which replace one element.
    """
    matches = [(target, name) for name in env if (target := _env_target(name)) is not None]
    for (key, indices), name in sorted(matches, key=lambda m: (len(m[0][0].parts), m[1])):
        parts = _substitute(key.parts, indices)
        _set_path(tree, parts, _cast(env[name], key, ".".join(map(str, parts)), name))


def _env_target(name: str) -> tuple[_KeyPath, list[int]] | None:
    segments = name.lower().replace("_", ".").split(".")
    pattern = ".".join("#" if segment.isdigit() else segment for segment in segments)
    key = _key_paths().get(".".join(segments)) or _key_paths().get(pattern)
    if key is None:
        return None
    return key, [int(s) for s in segments if s.isdigit()] if "#" in key.parts else []


def _substitute(parts: tuple[str, ...], indices: list[int]) -> list[str | int]:
    remaining = iter(indices)
    return [next(remaining) if part == "#" else part for part in parts]


# The spellings Go's strconv.ParseBool accepts.
_BOOLEANS = {**dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True),
             **dict.fromkeys(("0", "f", "F", "false", "FALSE", "False"), False)}


def _cast(value: str, key: _KeyPath, dotted: str, name: str) -> Any:
    try:
        if key.kind == "array":
            return _cast_array(value, key.item_kind)
        return _cast_scalar(value, key.kind)
    except ValueError as error:
        raise ConfigError(dotted, f"environment variable {name}: {error}") from None


def _cast_scalar(value: str, kind: str) -> Any:
    if kind in ("integer", "number"):
        try:
            return int(value) if kind == "integer" else float(value)
        except ValueError:
            raise ValueError(f"not {'an integer' if kind == 'integer' else 'a number'}") from None
    if kind == "boolean":
        if value not in _BOOLEANS:
            raise ValueError("not a boolean (use true or false)")
        return _BOOLEANS[value]
    if kind == "json":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("not valid JSON") from None
    return value


def _cast_array(value: str, item_kind: str | None) -> list[Any]:
    """A JSON array, or else comma-separated values (CSV quoting allowed) as Kratos accepts."""
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError:
        decoded = None
    if isinstance(decoded, list):
        return decoded
    if item_kind is None:
        raise ValueError("not a JSON array")
    return [_cast_scalar(item, item_kind) for item in next(csv.reader([value]), [])]


# --- validation --------------------------------------------------------------------------------


def _validate(tree: Mapping[str, Any]) -> None:
    error = best_match(_validator().iter_errors(tree))
    if error is not None:
        key = _error_key(error)
        raise ConfigError(key, _error_reason(error, key))
    _check_default_schema_id(tree)


def _error_key(error: ValidationError) -> str:
    """The dotted path of the offending key; for a missing or unexpected key, that key itself."""
    parts = [str(part) for part in error.absolute_path]
    if isinstance(error.instance, Mapping) and error.validator in ("required", "additionalProperties"):
        parts += _offending_names(error)[:1]
    return ".".join(parts)


def _offending_names(error: ValidationError) -> list[str]:
    if error.validator == "required":
        return [name for name in error.validator_value if name not in error.instance]
    known, patterns = error.schema.get("properties", {}), error.schema.get("patternProperties", {})
    return [
        str(name) for name in error.instance
        if name not in known and not any(re.search(pattern, str(name)) for pattern in patterns)
    ]


def _error_reason(error: ValidationError, key: str) -> str:
    """jsonschema's message, unless it would print a secret or a whole subtree (which may hold one)."""
    names_only = error.validator in ("required", "additionalProperties")
    if names_only or not (_is_sensitive(key) or isinstance(error.instance, (Mapping, list))):
        return error.message
    rule = error.validator_value
    shown = f" ({rule!r})" if isinstance(rule, (str, int, float)) else ""
    return f"the value breaks the schema's {error.validator} rule{shown}"


def _is_sensitive(key: str) -> bool:
    parts = key.split(".")
    prefixes = (tuple(sensitive.split(".")) for sensitive in _SENSITIVE_KEYS)
    return any(tuple(parts[: len(p)]) == p for p in prefixes) or not _SENSITIVE_SEGMENTS.isdisjoint(parts)


def _check_default_schema_id(tree: Mapping[str, Any]) -> None:
    default_id = tree["identity"]["default_schema_id"]
    ids = [schema["id"] for schema in tree["identity"]["schemas"]]
    if default_id not in ids:
        reason = f"{default_id!r} is not the id of any identity.schemas entry ({', '.join(ids)})"
        raise ConfigError("identity.default_schema_id", reason)


# --- typed values ------------------------------------------------------------------------------


def _build(tree: dict[str, Any]) -> Config:
    dev = bool(tree.get("dev", False))
    secrets_config, generated = _secrets(tree)
    identity = tree["identity"]
    schemas = identity["schemas"]
    return Config(
        tree=_freeze(tree),
        dev=dev,
        dsn=tree["dsn"],
        public=_serve(tree["serve"]["public"], dev),
        admin=_serve(tree["serve"]["admin"], dev),
        default_schema_id=identity["default_schema_id"],
        schemas=tuple(SchemaRef(s["id"], s["url"], s.get("selfservice_selectable", False)) for s in schemas),
        hashers=_hashers(tree["hashers"], dev),
        # Each falls back to the other, so neither is ever empty (Kratos: cookie falls back to default).
        secrets_default=secrets_config["default"] or secrets_config["cookie"],
        secrets_cookie=secrets_config["cookie"] or secrets_config["default"],
        secrets_cipher=secrets_config["cipher"],
        secrets_pagination=secrets_config["pagination"],
        generated_secrets=generated,
    )


def _serve(serve: Mapping[str, Any], dev: bool) -> ServeConfig:
    host, port = serve["host"], serve["port"]
    base_url = serve.get("base_url") or _default_base_url(host, port, dev)
    return ServeConfig(host=host, port=port, base_url=base_url if base_url.endswith("/") else base_url + "/")


def _default_base_url(host: str, port: int, dev: bool) -> str:
    """Kratos (oryx/configx/serve.go): https://<OS hostname>:<port>/, http under --dev.

    Under --dev we use 127.0.0.1 instead of the host name so the base URL shares its host with the
    default browser return URL (http://127.0.0.1:4455/) and cookies set on one are sent to the other.
    """
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1" if dev else socket.gethostname()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"{'http' if dev else 'https'}://{host}:{port}/"


def _hashers(hashers: Mapping[str, Any], dev: bool) -> HasherParams:
    argon2 = hashers["argon2"]
    return HasherParams(
        algorithm=hashers["algorithm"],
        # Kratos raises a bcrypt cost below 12 to 12 unless --dev (driver/config/config.go HasherBcrypt).
        bcrypt_cost=hashers["bcrypt"]["cost"] if dev else max(hashers["bcrypt"]["cost"], 12),
        argon2=Argon2Params(
            memory_kib=_kib(argon2["memory"]),
            iterations=argon2["iterations"],
            # Kratos's default is 2 * runtime.NumCPU(); there is no schema default.
            parallelism=argon2.get("parallelism") or 2 * (os.cpu_count() or 1),
            salt_length=argon2["salt_length"],
            key_length=argon2["key_length"],
        ),
    )


_BYTE_UNITS = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4, "PB": 5, "EB": 6}
_BYTE_SIZE = re.compile(r"\s*(\d+)\s*(B|KB|MB|GB|TB|PB|EB)\s*", re.IGNORECASE)


def _kib(size: str) -> int:
    """Kratos's byte sizes ("128MB") use binary multiples, as its bytesize package does."""
    match = _BYTE_SIZE.fullmatch(size)
    if match is None:
        raise ConfigError("hashers.argon2.memory", f"{size!r} is not a size such as 128MB")
    return int(match[1]) * 1024 ** _BYTE_UNITS[match[2].upper()] // 1024


def _secrets(tree: dict[str, Any]) -> tuple[dict[str, tuple[str, ...]], bool]:
    configured = tree.get("secrets", {})
    found = {name: tuple(configured.get(name, ())) for name in ("default", "cookie", "cipher", "pagination")}
    if found["default"] or found["cookie"]:
        return found, False
    # Kratos invents a per-process secret too (SecretsDefault); cookies then die with the process.
    found["default"] = (secrets.token_urlsafe(24),)  # 32 characters
    tree.setdefault("secrets", {})["default"] = list(found["default"])
    logger.warning(
        "No secrets configured (secrets.default, secrets.cookie): generated a random one for this "
        "process. Sessions, cookies and codes will not survive a restart; configure secrets.cookie."
    )
    return found, True


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


# --- durations ---------------------------------------------------------------------------------

_DURATION_UNITS_US = {
    "ns": Fraction(1, 1000),
    "us": Fraction(1),
    "µs": Fraction(1),  # U+00B5 micro sign
    "μs": Fraction(1),  # U+03BC Greek mu; Go accepts both
    "ms": Fraction(1000),
    "s": Fraction(1_000_000),
    "m": Fraction(60_000_000),
    "h": Fraction(3_600_000_000),
}
_DURATION_PART = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_DURATION = re.compile(rf"[-+]?(?:{_DURATION_PART})+")
# Go keeps a duration in an int64 of nanoseconds (about 292 years) and refuses a longer one.
_DURATION_MAX_US = Fraction(2**63 - 1, 1000)


def parse_duration(value: str) -> timedelta:
    """A Go duration ("1h30m", "15m", "500ms", "-1.5h", "0") as a timedelta (nanoseconds truncated)."""
    if value in ("0", "+0", "-0"):
        return timedelta(0)
    if not _DURATION.fullmatch(value):
        raise ValueError(f"invalid duration {value!r}: expected a Go duration such as 1h30m, 15m or 500ms")
    parts = re.findall(_DURATION_PART, value)
    total = sum(Fraction(number) * _DURATION_UNITS_US[unit] for number, unit in parts)
    if total > _DURATION_MAX_US:
        raise ValueError(f"invalid duration {value!r}: longer than Go's maximum of about 292 years")
    return timedelta(microseconds=int(-total if value.startswith("-") else total))
