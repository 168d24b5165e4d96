"""WSGI and ASGI applications bound to one API surface."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.core.wsgi import get_wsgi_application

from kratos_project.surfaces import SURFACE_KEY

# A body refused unread (413 past the 5 MB cap) is read and discarded up to this size before the
# response goes out: gunicorn closes the socket after a `Connection: close` response, and closing
# with unread input makes the kernel send RST, which destroys the 413 before the client reads it.
# Go's net/http (Kratos) avoids that with a lingering close; past this size the client gets a reset.
_DRAIN_LIMIT = 16 * 1024 * 1024
_DRAIN_CHUNK = 64 * 1024


def wsgi_for(surface: str) -> Callable[..., Iterable[bytes]]:
    django_app = get_wsgi_application()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[SURFACE_KEY] = surface
        response = django_app(environ, start_response)
        _drain_unread_body(environ)
        return response

    return application


def _drain_unread_body(environ: dict[str, Any]) -> None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if 0 < length <= _DRAIN_LIMIT:
        try:
            while environ["wsgi.input"].read(_DRAIN_CHUNK):  # b"" once the body is consumed
                pass
        except OSError:
            pass  # the client went away; there is no one left to answer


def asgi_for(surface: str) -> ASGIHandler:
    get_asgi_application()  # django.setup()

    class SurfaceRequest(ASGIRequest):
        def __init__(self, scope: dict[str, Any], body_file: Any) -> None:
            super().__init__(scope, body_file)
            self.META[SURFACE_KEY] = surface

    class SurfaceHandler(ASGIHandler):
        request_class = SurfaceRequest

    return SurfaceHandler()
