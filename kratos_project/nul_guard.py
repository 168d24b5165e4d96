"""No NUL characters in any request, on every backend.

PostgreSQL stores none in text or jsonb (it fails the statement), while SQLite and MariaDB keep
them; a NUL in a trait, a transient payload, an identifier or a search term would be a 500 on one
backend and stored data on the others. Rather than guard every column, each request is checked once,
before any view: its path, its query string and its body, where NUL is a raw byte, a form's `%00` or
JSON's `\\u0000` escape. Such a request gets Kratos's 400 envelope.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from kratos_project.errors import BadRequest, as_kratos_error, error_response

# `\u0000` escapes a NUL only after an even run of backslashes (`\\u0000` is a backslash, then text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_NUL = b"%00"
REFUSAL = "The request contains a NUL character (U+0000), which cannot be stored."


def contains_nul(data: bytes) -> bool:
    return b"\x00" in data or _FORM_NUL in data or _JSON_NUL.search(data) is not None


class NulGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or contains_nul(request.META.get("QUERY_STRING", "").encode("latin-1", "replace")):
            return error_response(BadRequest(REFUSAL))
        if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
            try:
                body = request.body  # read once here; Django keeps it for the view
            except RequestDataTooBig as too_big:
                return error_response(as_kratos_error(too_big))
            if contains_nul(body):
                return error_response(BadRequest(REFUSAL))
        return self.get_response(request)
