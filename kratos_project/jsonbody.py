"""JSON input made safe to keep, in one place.

- An escaped UTF-16 surrogate without its pair (`"\\ud800"`) becomes U+FFFD, as Go's encoding/json
  (Kratos) decodes it. Python would keep a lone surrogate, a string that no database driver and no
  UTF-8 encoder accepts: a 500 after the row was written, or before.
- Nesting deeper than `MAX_DEPTH` is refused. MariaDB's JSON columns refuse a value nested 32
  levels deep (its `JSON_VALID` check), and Python's decoder, and the schema validator after it,
  recurse once per level and fail near the interpreter's stack limit (a 500). A body of at most 32
  levels holds values of at most 31, which every backend stores; Go stops at 10,000 levels, but no
  identity's traits come near either limit.

Every JSON input goes through here: API bodies (`JSONParser`, `request_json`), flow submissions and
identity bodies made by `import_identities` (`sanitized`).
"""
from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # after decoding, a valid pair is one character
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def scrub_surrogates(value: Any) -> Any:
    """`value` (decoded JSON) with every lone surrogate replaced by U+FFFD, keys included."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub_surrogates(key): scrub_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_surrogates(item) for item in value]
    return value


def deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (without recursing itself)."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def sanitized(value: Any, *, may_hold_surrogates: bool = True) -> Any:
    """Decoded JSON, safe to keep: ValueError past `MAX_DEPTH`, lone surrogates replaced."""
    if deeper_than(value, MAX_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return scrub_surrogates(value) if may_hold_surrogates else value


def decode_json(data: bytes) -> Any:
    """`json.loads` and `sanitized` (whose scrub only a body with an escaped surrogate needs). Raises ValueError."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    return sanitized(value, may_hold_surrogates=_ESCAPED_SURROGATE.search(data) is not None)


def request_json(request: HttpRequest, empty: bytes = b"null") -> Any:
    """The request's JSON body (`empty` when there is none), or Kratos's 400."""
    # Imported here: DRF loads this module (JSONParser) while `errors` is still importing DRF.
    from kratos_project.errors import BadRequest

    try:
        return decode_json(request.body or empty)
    except ValueError as error:
        raise BadRequest(f"Unable to decode the request body as JSON: {error}") from error


class JSONParser(parsers.JSONParser):
    """DRF's parser, decoding through `decode_json`."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return decode_json(stream.read() if stream is not None else b"")
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
