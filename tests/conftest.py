"""Shared fixtures: clients per API surface, identity factories, configuration overrides."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from kratos_project import clock
from kratos_project.config import get_config
from kratos_project.surfaces import SURFACE_KEY
from kratos_project.tenancy import bind_network, default_nid


class ApiClient(Client):
    """Django's test client that speaks JSON to one API surface."""

    def call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"HTTP_ACCEPT": "application/json", **extra}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self, method.lower())(path, **kwargs)


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    default_nid.cache_clear()
    clock.reset()
    yield
    default_nid.cache_clear()
    clock.reset()


@pytest.fixture
def admin_api(db: None) -> ApiClient:
    return ApiClient(**{SURFACE_KEY: "admin"})


@pytest.fixture
def public_api(db: None) -> ApiClient:
    return ApiClient(**{SURFACE_KEY: "public"})


@pytest.fixture
def network(db: None) -> Iterator[Any]:
    """Binds the test body to the default network, as a request would be."""
    with bind_network(default_nid()) as nid:
        yield nid


@pytest.fixture
def identity_factory(admin_api: ApiClient) -> Callable[..., dict[str, Any]]:
    """Creates identities through the admin API; returns the response body."""
    counter = iter(range(1_000_000))

    def create(traits: dict[str, Any] | None = None, password: str | None = None, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"schema_id": "default", "traits": traits or {"email": f"user{next(counter)}@example.org"}}
        if password is not None:
            body["credentials"] = {"password": {"config": {"password": password}}}
        body.update(fields)
        response = admin_api.call("POST", "/admin/identities", body)
        assert response.status_code == 201, response.content
        return response.json()

    return create


@pytest.fixture
def kratos_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Override configuration keys the Kratos way (environment variables), then reload the config."""

    def override(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_config.cache_clear()

    yield override
    monkeypatch.undo()
    get_config.cache_clear()


@pytest.fixture
def console(admin_user: Any) -> Client:
    """A logged-in operator (a `createsuperuser` user) of the operator console, on the admin surface."""
    client = Client(**{SURFACE_KEY: "admin"})
    client.force_login(admin_user)
    return client
