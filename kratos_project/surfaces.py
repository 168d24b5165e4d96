"""Two API surfaces in one Django project: public (port 4433) and admin (port 4434).

Each entrypoint (wsgi_public, wsgi_admin, asgi_public, asgi_admin) marks its requests with the
surface it serves; this middleware routes them to that surface's URLconf. The admin URLconf is
never reachable from the public entrypoint because the public URLconf simply does not include it.
"""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SURFACE_KEY = "kratos.surface"
URLCONFS = {"public": "kratos_project.urls_public", "admin": "kratos_project.urls_admin"}


def surface_of(request: HttpRequest) -> str:
    return request.META.get(SURFACE_KEY, "public")


class SurfaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.urlconf = URLCONFS[surface_of(request)]
        response = self.get_response(request)
        if request.method == "GET" and not request.path.startswith("/console/"):
            # Kratos marks every GET on both listeners uncacheable (identity data is personal).
            response.setdefault("Cache-Control", "private, no-cache, no-store, must-revalidate")
        return response
