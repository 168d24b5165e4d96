"""JSON as Kratos writes it: UTF-8, RFC 3339 timestamps, no content negotiation."""
from __future__ import annotations

from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer


class KratosJSONRenderer(JSONRenderer):
    charset = "utf-8"
    media_type = "application/json"


class AlwaysJSONNegotiation(BaseContentNegotiation):
    """The API speaks JSON whatever the Accept header says (as Kratos's JSON endpoints do)."""

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        content_type = request.content_type or "application/json"
        return next((p for p in parsers if p.media_type in content_type), parsers[0])

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: str | None = None) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type
