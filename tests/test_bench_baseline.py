"""bench/sessions.py's baseline view: switched off unless the server's environment asks for it."""
from __future__ import annotations

import json

from django.test import RequestFactory

from identities.models import Identity
from kratos_project import bench_baseline
from sessions_app.services import issue_session


def _signed_in(identity_factory) -> tuple[str, str]:
    identity = Identity.objects.get(id=identity_factory()["id"])
    session, token = issue_session(identity, method="password")
    return str(session.id), token


def test_the_baseline_is_not_mounted_by_default(public_api, network, identity_factory):
    _, token = _signed_in(identity_factory)

    response = public_api.call("GET", "/__bench/lookup", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


def test_only_the_environment_variable_mounts_it(monkeypatch):
    monkeypatch.delenv(bench_baseline.ENV_VAR, raising=False)
    assert bench_baseline.urlpatterns() == []
    monkeypatch.setenv(bench_baseline.ENV_VAR, "0")
    assert bench_baseline.urlpatterns() == []

    monkeypatch.setenv(bench_baseline.ENV_VAR, "1")
    [route] = bench_baseline.urlpatterns()

    assert str(route.pattern) == "__bench/lookup" and route.callback is bench_baseline.lookup


def test_the_baseline_finds_the_session_by_its_token_in_one_query(network, identity_factory,
                                                                   django_assert_num_queries):
    session_id, token = _signed_in(identity_factory)
    factory = RequestFactory()

    with django_assert_num_queries(1):
        found = bench_baseline.lookup(factory.get("/__bench/lookup", HTTP_X_SESSION_TOKEN=token))
    missing = bench_baseline.lookup(factory.get("/__bench/lookup", HTTP_X_SESSION_TOKEN=token + "x"))

    assert found.status_code == 200 and json.loads(found.content) == {"id": session_id}
    assert missing.status_code == 401
