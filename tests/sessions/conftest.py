"""Session fixtures: sign an identity in the way the flows do (`issue_session`) and carry its token."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from identities.models import Identity
from sessions_app.models import Session
from sessions_app.services import issue_session


@pytest.fixture
def sign_in(network: Any, identity_factory: Callable[..., dict[str, Any]]) -> Callable[..., tuple[Session, str]]:
    """`sign_in(identity=None, **meta)`: a new password session (for a new identity unless one is
    given), its device taken from a request with the given META; returns (session, clear token)."""

    def create(identity: Identity | None = None, **meta: Any) -> tuple[Session, str]:
        if identity is None:
            identity = Identity.objects.get(id=identity_factory()["id"])
        request = RequestFactory().get("/self-service/login", **{"REMOTE_ADDR": "203.0.113.7", **meta})
        return issue_session(identity, method="password", request=request)

    return create
