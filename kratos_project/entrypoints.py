"""WSGI and ASGI applications bound to one API surface."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.core.wsgi import get_wsgi_application

from kratos_project.surfaces import SURFACE_KEY


def wsgi_for(surface: str) -> Callable[..., Iterable[bytes]]:
    django_app = get_wsgi_application()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[SURFACE_KEY] = surface
        return django_app(environ, start_response)

    return application


def asgi_for(surface: str) -> ASGIHandler:
    get_asgi_application()  # django.setup()

    class SurfaceRequest(ASGIRequest):
        def __init__(self, scope: dict[str, Any], body_file: Any) -> None:
            super().__init__(scope, body_file)
            self.META[SURFACE_KEY] = surface

    class SurfaceHandler(ASGIHandler):
        request_class = SurfaceRequest

    return SurfaceHandler()
