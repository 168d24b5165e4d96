"""Networks (NIDs): every row belongs to one, and the unscoped query is the one that is hard to write.

As Kratos's persister does, the NID is stamped on insert and added to every read, so callers never
pass it. A request is bound to a network by `NetworkMiddleware`; commands bind explicitly with
`bind_network`. A query outside any binding raises instead of leaking another tenant's rows.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from django.db import models
from django.http import HttpRequest, HttpResponse

_nid: ContextVar[UUID | None] = ContextVar("nid", default=None)


class NetworkNotBound(RuntimeError):
    """A network-scoped query ran outside `bind_network()`."""


def current_nid() -> UUID:
    if (nid := _nid.get()) is None:
        raise NetworkNotBound("network-scoped query outside bind_network()")
    return nid


@contextmanager
def bind_network(nid: UUID) -> Iterator[UUID]:
    token = _nid.set(nid)
    try:
        yield nid
    finally:
        _nid.reset(token)


@functools.cache
def default_nid() -> UUID:
    """The installation's network: the oldest one, created by the `default_network` migration.

    Cached for the life of the process; tests that flush the database call `default_nid.cache_clear()`.
    """
    from identities.models import Network

    network = Network.objects.order_by("created_at").first() or Network.objects.create()
    return network.id


class NetworkScopedManager(models.Manager):
    # Migrations must see every network, so this manager is never used there.
    use_in_migrations = False

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(nid_id=current_nid())


class NetworkScoped(models.Model):
    nid = models.ForeignKey(
        "identities.Network", on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )

    objects = NetworkScopedManager()
    # Explicit escape hatch for migrations, cleanup and tests; easy to grep for.
    all_networks = models.Manager()

    class Meta:
        abstract = True
        base_manager_name = "all_networks"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.nid_id = self.nid_id or current_nid()
        super().save(*args, **kwargs)


class NetworkMiddleware:
    """Binds every request to the installation's network."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/health/") or request.path.startswith("/admin/health/"):
            # Health checks must answer (503) even when the database is gone.
            return self.get_response(request)
        with bind_network(default_nid()):
            return self.get_response(request)
