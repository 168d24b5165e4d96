"""Kratos's error envelope: typed exceptions, one renderer.

Code raises a `KratosError` subclass and never builds an error response itself. DRF views reach
`kratos_exception_handler`; plain Django views, 404s and 500s reach `error_response` through the URL
handlers and `KratosErrorMiddleware`, so every error on both ports has the same shape.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.views import set_rollback

logger = logging.getLogger("kratos.errors")


class KratosError(Exception):
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    error_id: ClassVar[str | None] = None  # only ids from shared/kratos/error-ids.json
    message: ClassVar[str] = "An internal server error occurred, please contact the system administrator"

    def __init__(self, reason: str | None = None, details: Mapping[str, Any] | None = None, *,
                 message: str | None = None) -> None:
        if message is not None:
            # herodot's `WithError(text)`: the text replaces the default message (e.g. "cannot
            # revoke current session"), often with no reason at all.
            self.message = message  # type: ignore[misc]
        super().__init__(reason or self.message)
        self.reason = reason
        self.details = dict(details or {})

    def top_level_fields(self) -> dict[str, Any]:
        """Siblings of `error` in the body (e.g. `use_flow_id`); none by default."""
        return {}

    def body(self) -> dict[str, Any]:
        error = {
            "id": self.error_id,
            "code": self.status.value,
            "status": self.status.phrase,
            "reason": self.reason,
            "message": self.message,
            "details": self.details or None,
        }
        # herodot omits empty fields, except `message`.
        return {"error": {k: v for k, v in error.items() if v is not None}, **self.top_level_fields()}


class BadRequest(KratosError):
    status = HTTPStatus.BAD_REQUEST
    message = "The request was malformed or contained invalid parameters"


class Unauthorized(KratosError):
    """herodot's ErrUnauthorized; the "no session" 401s of `/sessions*` carry no error id (reference §2.1)."""

    status = HTTPStatus.UNAUTHORIZED
    message = "The request could not be authorized"


class NoSessionFound(Unauthorized):
    """`GET /sessions/whoami` without a valid session (Kratos `session/error.go` ErrNoSessionFound)."""

    def __init__(self) -> None:
        super().__init__("No valid session credentials found in the request.")


class NotFound(KratosError):
    status = HTTPStatus.NOT_FOUND
    message = "The requested resource could not be found"


class ResourceNotFound(NotFound):
    """A row the store does not have. Kratos answers with ory/x `sqlcon.ErrNoRows`, whose text is the
    `message` itself and which has no `reason`; SDK users match on that message."""

    message = "Unable to locate the resource"


class Conflict(KratosError):
    status = HTTPStatus.CONFLICT
    message = "The resource could not be created due to a conflict"


class PayloadTooLarge(KratosError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    message = "The request body is too large"


class MethodNotAllowed(KratosError):
    status = HTTPStatus.METHOD_NOT_ALLOWED
    message = "The requested method is not allowed"


class ServiceUnavailable(KratosError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    message = "The service is not available at the moment"


class SchemaValidationError(BadRequest):
    """Traits (or another document) violate a JSON Schema; `details` lists each violation."""

    message = "The request was malformed or contained invalid parameters"
    violations: list[Any] = []  # noqa: RUF012 (set per instance by the schema validator)


def as_kratos_error(exc: BaseException) -> KratosError:
    """Map framework exceptions onto Kratos's envelope; anything unknown is an opaque 500."""
    if isinstance(exc, KratosError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The request body exceeds the maximum size of 5 MB.")
    if isinstance(exc, drf.ParseError):
        return BadRequest(f"Unable to decode the request body as JSON: {exc.detail}")
    if isinstance(exc, drf.NotFound):
        return NotFound()
    if isinstance(exc, drf.MethodNotAllowed):
        return MethodNotAllowed()
    if isinstance(exc, drf.UnsupportedMediaType):
        return BadRequest("The request body must be JSON (Content-Type: application/json).")
    if isinstance(exc, drf.ValidationError):
        return BadRequest(_first_validation_message(exc.detail), details={"errors": exc.detail})
    if isinstance(exc, drf.APIException):
        error = KratosError(str(exc.detail))
        error.status = HTTPStatus(exc.status_code)  # type: ignore[misc]
        return error
    logger.exception("unhandled error", exc_info=exc)
    return KratosError()


def _first_validation_message(detail: Any, path: str = "") -> str:
    if isinstance(detail, Mapping):
        key, value = next(iter(detail.items()))
        return _first_validation_message(value, f"{path}.{key}" if path else str(key))
    if isinstance(detail, list) and detail:
        return _first_validation_message(detail[0], path)
    return f"{path}: {detail}" if path and path != "non_field_errors" else str(detail)


def error_response(error: KratosError) -> JsonResponse:
    # herodot writes errors as plain application/json (no charset), unlike successful bodies.
    response = JsonResponse(error.body(), status=error.status.value, content_type="application/json")
    response["Ory-Error-Id"] = error.error_id or ""
    return response


def kratos_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    set_rollback()
    return error_response(as_kratos_error(exc))


class KratosErrorMiddleware:
    """Renders exceptions raised outside DRF views (plain Django views, other middleware)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/console/"):
            return None  # the Django admin console keeps Django's own error pages
        return error_response(as_kratos_error(exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(NotFound())


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(KratosError())
