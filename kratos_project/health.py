"""`/health/alive`, `/health/ready` (both ports) and `/version` (admin), as Kratos answers them."""
from __future__ import annotations

import logging

from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest, JsonResponse

from kratos_project.errors import ServiceUnavailable, error_response
from kratos_project.surfaces import surface_of

logger = logging.getLogger("kratos.health")
VERSION = "v26.2.0"


def alive(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("readiness check failed: database: %s", error)
        # The public port does not say which check failed (Kratos obfuscates it there).
        reason = "database: " + str(error) if surface_of(request) == "admin" else "One or more checks failed."
        return error_response(ServiceUnavailable(reason))
    return JsonResponse({"status": "ok"})


def version(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": VERSION})
