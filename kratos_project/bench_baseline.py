"""The baseline of `bench/sessions.py`; it exists only for that benchmark and serves no client.

`GET /__bench/lookup` is the least a session check can do in this project: one indexed query (the
session id by the hash of `X-Session-Token`, on the `(nid, token_hash)` unique index) and a small
JSON answer, as a plain Django view behind the same middleware as every other public route. The
benchmark compares `/sessions/whoami` with it on the same server in the same run.

It is mounted on the public port only while the server runs with `KRATOS_BENCH_BASELINE=1` in its
environment (`kratos_project/urls_public.py`); there is no config key for it, and without the
variable the path is a 404.
"""
from __future__ import annotations

import environ
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from sessions_app.models import Session
from sessions_app.tokens import token_hash

ENV_VAR = "KRATOS_BENCH_BASELINE"


@require_GET
def lookup(request: HttpRequest) -> JsonResponse:
    token = request.headers.get("X-Session-Token", "")
    # A slice, not .first(): no ORDER BY, just the index lookup.
    found = Session.objects.filter(token_hash=token_hash(token)).values_list("id", flat=True)[:1]
    session_id = next(iter(found), None)
    if session_id is None:
        return JsonResponse({"error": "no session"}, status=401)
    return JsonResponse({"id": str(session_id)})


def urlpatterns() -> list[URLPattern]:
    """The baseline's route when the server's environment switches it on, else none."""
    return [path("__bench/lookup", lookup)] if environ.Env().bool(ENV_VAR, default=False) else []
