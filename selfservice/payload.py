"""Submission bodies: JSON objects or HTML forms whose field names are node names (`traits.email`)."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from kratos_project.errors import BadRequest
from kratos_project.jsonbody import request_json


def parse_payload(request: HttpRequest) -> dict[str, Any]:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = request_json(request, empty=b"{}")
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body
    try:
        source = request.POST if request.method == "POST" else request.GET
    except MultiPartParserError as error:  # e.g. multipart/form-data without its boundary
        raise BadRequest(f"Unable to parse the HTTP form body: {error}") from error
    return unflatten({key: source.get(key) for key in source})


def unflatten(fields: dict[str, Any]) -> dict[str, Any]:
    """`{"traits.name.first": "Ada"}` → `{"traits": {"name": {"first": "Ada"}}}`."""
    nested: dict[str, Any] = {}
    for name, value in fields.items():
        node = nested
        *parents, leaf = name.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadRequest(f"The form field {name!r} conflicts with another field.")
            node = child
        node[leaf] = value
    return nested
