"""JSON input decoded as Kratos decodes it (Go's encoding/json): an escaped UTF-16 surrogate without
its pair (`"\\ud800"`) becomes U+FFFD. Python would keep it as a lone surrogate, a string that no
database driver and no UTF-8 encoder accepts: a 500 after the row was written, or before.

Every JSON input goes through here: API bodies (`JSONParser`, `request_json`), flow submissions and
`import_identities` records (`scrub_surrogates`).
"""
from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest
from rest_framework import parsers
from rest_framework.exceptions import ParseError

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


def decode_json(data: bytes) -> Any:
    """`json.loads`, then the scrub, which only a body with an escaped surrogate needs. Raises ValueError."""
    value = json.loads(data)
    return scrub_surrogates(value) if _ESCAPED_SURROGATE.search(data) else value


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
