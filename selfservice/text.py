"""Kratos's UI text messages (`uiText`): the ids, types and English texts of `text/message_*.go`.

`ui_text(4000032, min_length=8, actual_length=5)` returns the message as Kratos puts it on a flow:
`{"id", "text", "type", "context"}`, the context omitted when empty (Go's `omitempty`). The text is
the catalogue's template with its `{placeholders}` filled from the context, formatted as Go's `fmt`
would; the catalogue's derived placeholders are computed as Kratos's constructors compute them:

- `{<key>_list}`: the list `<key>` joined (`strings.Join`); uiText items contribute their text;
- `{<key>_unix_since_minutes}` / `{<key>_unix_until_minutes}`: minutes since / until the time
  `<key>` (a datetime) or, failing that, `<key>_unix`, with two decimals (`%.2f`), on `clock.now()`.

The catalogue (`ui-text-ids.json`) is a copy of the shared Kratos v26.2.0 one, shipped with the
app so that nothing outside the package is read at runtime; it is parsed once per process.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from kratos_project import clock
from kratos_project.jsontime import rfc3339

CATALOGUE_PATH = Path(__file__).resolve().parent / "ui-text-ids.json"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class _Template:
    type: str
    text: str | None  # None: Kratos has no constructor for the id, the caller supplies the text


@functools.cache
def _catalogue() -> Mapping[int, _Template]:
    document = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    return {entry["id"]: _Template(entry["type"], entry["text"]) for entry in document["messages"]}


def ui_text(message_id: int, /, *, text: str | None = None, **context: Any) -> dict[str, Any]:
    """The uiText message `message_id` with `context`; `text` replaces the rendered text, for the
    ids Kratos fills with free-form text (1070000 labels, 4000001 and 5000001 reasons).

    Raises LookupError for an id Kratos does not have and KeyError for a placeholder the context
    cannot fill: both are programming errors, never user input.
    """
    try:
        template = _catalogue()[message_id]
    except KeyError:
        raise LookupError(f"Kratos v26.2.0 has no UI text id {message_id}") from None
    message: dict[str, Any] = {
        "id": message_id,
        "text": _render(message_id, template, context) if text is None else text,
        "type": template.type,
    }
    if context:
        message["context"] = {key: _json_value(value) for key, value in context.items()}
    return message


def _render(message_id: int, template: _Template, context: Mapping[str, Any]) -> str:
    if (build := _BUILT_TEXTS.get(message_id)) is not None:
        return build(context)
    if template.text is None:
        raise KeyError(f"UI text {message_id} has no template in Kratos; pass text=")
    quoted = _GO_QUOTED.get(message_id, frozenset())

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = _placeholder_value(message_id, name, context)
        # The template already carries the quotes of Go's %q; only the escaping is added here.
        return _go_quote(value)[1:-1] if name in quoted else _go_format(value)

    return _PLACEHOLDER.sub(fill, template.text)


def _placeholder_value(message_id: int, name: str, context: Mapping[str, Any]) -> Any:
    if name in context:
        return context[name]
    if name.endswith("_list") and (items := context.get(name.removesuffix("_list"))) is not None:
        separator = _LIST_SEPARATORS.get(message_id, ", ")
        return separator.join(_go_format(_item_text(item)) for item in items)
    for suffix, since in (("_unix_since_minutes", True), ("_unix_until_minutes", False)):
        if name.endswith(suffix):
            moment = _moment(context, name.removesuffix(suffix), message_id)
            seconds = (clock.now() - moment if since else moment - clock.now()).total_seconds()
            return f"{seconds / 60:.2f}"
    raise KeyError(f"UI text {message_id} needs the context key {name!r}")


def _item_text(item: Any) -> Any:
    # 1050015 lists uiText messages (its context.secrets); Kratos joins their texts.
    return item["text"] if isinstance(item, Mapping) else item


def _moment(context: Mapping[str, Any], key: str, message_id: int) -> datetime:
    if isinstance(value := context.get(key), datetime):
        return value
    if (unix := context.get(f"{key}_unix")) is not None:
        return datetime.fromtimestamp(unix, UTC)
    raise KeyError(f"UI text {message_id} needs the context key {key!r} or {key + '_unix'!r}")


def _json_value(value: Any) -> Any:
    # Kratos marshals the context map with encoding/json: times as RFC 3339, slices as arrays.
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    return value


# --- Go formatting -------------------------------------------------------------------------------


def _go_format(value: Any) -> str:
    """`fmt`'s %v (and %d, %s): what Kratos's Sprintf calls print for each value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, datetime):
        return _go_time(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(_go_format(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    return str(value)


def _go_float(value: float) -> str:
    # %v of a float64 is strconv's shortest 'g': exponent form below 1e-4 and from 1e+06 on.
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "-0" if repr(value).startswith("-") else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    decimal_exponent = len(digits) + int(exponent) - 1
    if decimal_exponent < -4 or decimal_exponent >= 6:
        fraction = f".{mantissa[1:]}" if len(mantissa) > 1 else ""
        text = f"{mantissa[0]}{fraction}e{decimal_exponent:+03d}"
    else:
        text = format(Decimal(repr(abs(value))).normalize(), "f")
    return f"-{text}" if sign else text


def _go_time(value: datetime) -> str:
    # time.Time.String() of a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC".
    utc = value.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}".rstrip("0").rstrip(".")
    return f"{utc:%Y-%m-%d %H:%M:%S}{fraction} +0000 UTC"


_GO_ESCAPES = {
    "\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v",
    '"': r"\"", "\\": r"\\",
}


def _go_quote(value: str) -> str:
    """strconv.Quote, which %q prints: printable runes as they are, the rest escaped."""
    out = []
    for char in value:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():  # Python's and Go's definitions agree: L, M, N, P, S and space
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _go_title(value: str) -> str:
    # cases.Title(language.English): each word's first letter title-cased, the rest lower-cased;
    # underscores, apostrophes and dots inside a word do not split it.
    return re.sub(r"\w+(?:['.]\w+)*", lambda word: word[0][:1].title() + word[0][1:].lower(), value)


# --- messages whose text is more than a template -------------------------------------------------

# Placeholders Kratos prints with %q (Go-escaped inside the quotes the template shows).
_GO_QUOTED: Mapping[int, frozenset[str]] = {
    1010016: frozenset({"duplicateIdentifier", "provider"}),  # NewInfoLoginLinkMessage
    4000004: frozenset({"pattern"}),  # NewErrorValidationInvalidFormat
}

# strings.Join separators other than ", " (NewErrorValidationWrongType joins with " or ").
_LIST_SEPARATORS: Mapping[int, str] = {4000026: " or "}

_CREDENTIAL_TYPE_HINTS = {
    "password": "your password",
    "oidc": "social sign in",
    "saml": "social sign in",
    "webauthn": "your passkey or a security key",
    "passkey": "your passkey",
}


def _duplicate_credentials_with_hints(context: Mapping[str, Any]) -> str:
    """NewErrorValidationDuplicateCredentialsWithHints (text/message_validation.go): sentences are
    added only for the credential types and providers the context lists."""
    identifier = context.get("credential_identifier_hint") or "an email, phone, or username"
    text = f"You tried signing in with {identifier} which is already in use by another account."
    if types := context.get("available_credential_types") or []:
        hints = [_CREDENTIAL_TYPE_HINTS[kind] for kind in types if kind in _CREDENTIAL_TYPE_HINTS]
        hints = list(dict.fromkeys(hints or types))
        if len(hints) > 1:
            hints[-1] = "or " + hints[-1]
        text += f" You can sign in using {', '.join(hints)}."
    providers = [
        provider if "{" in provider or "}" in provider else _go_title(provider)
        for provider in context.get("available_oidc_providers") or []
    ]
    if providers:
        text += f" You can sign in using one of the following social sign in providers: {', '.join(providers)}."
    return text


_BUILT_TEXTS: Mapping[int, Callable[[Mapping[str, Any]], str]] = {
    4000028: _duplicate_credentials_with_hints,
}
