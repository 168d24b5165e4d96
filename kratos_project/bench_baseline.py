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

import os

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from sessions_app.models import Session
from sessions_app.tokens import token_hash

ENV_VAR = "KRATOS_BENCH_BASELINE"


@require_GET
def lookup(request: HttpRequest) -> JsonResponse:
    token = request.headers.get("X-Session-Token", "")
    session_id = Session.objects.filter(token_hash=token_hash(token)).values_list("id", flat=True).first()
    if session_id is None:
        return JsonResponse({"error": "no session"}, status=401)
    return JsonResponse({"id": str(session_id)})


def urlpatterns(environ: os._Environ[str] | dict[str, str] = os.environ) -> list[URLPattern]:
    """The baseline's route when `environ` switches it on, else none."""
    return [path("__bench/lookup", lookup)] if environ.get(ENV_VAR) == "1" else []
