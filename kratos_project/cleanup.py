"""What `manage.py cleanup` deletes: each app registers its expiring tables here in `AppConfig.ready`.

Kratos's `cleanup sql` (`persistence/sql/persister.go` CleanupDatabase) walks a fixed list of
tables; here the list is open, so the flows of later issues add theirs without touching the
command. Every network is cleaned: the command is an operator's maintenance run, not a request.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import models, transaction


@dataclass(frozen=True)
class Cleanup:
    label: str  # plural noun for the progress line, e.g. "sessions"
    count: Callable[[datetime], int]  # rows that expired at or before the cutoff
    delete_batch: Callable[[datetime, int], int]  # delete at most n of them, oldest first; how many went


CLEANUPS: list[Cleanup] = []


def register(cleanup: Cleanup) -> None:
    """Add a cleanup once; `ready()` may run more than once (tests, management commands)."""
    if all(existing.label != cleanup.label for existing in CLEANUPS):
        CLEANUPS.append(cleanup)


def in_batches(cleanup: Cleanup, cutoff: datetime, size: int) -> Iterator[int]:
    """Delete batch after batch (each its own transaction, so locks stay short); yield each count."""
    while (deleted := cleanup.delete_batch(cutoff, size)) > 0:
        yield deleted
        if deleted < size:
            return


def expired_rows(label: str, model: type[models.Model], field: str = "expires_at") -> Cleanup:
    """The usual cleanup: rows whose `field` lies at or before the cutoff, in every network."""
    # `all_networks`: a maintenance run spans every network (the escape hatch of tenancy.py).
    manager = model.all_networks  # type: ignore[attr-defined]

    def count(cutoff: datetime) -> int:
        return manager.filter(**{f"{field}__lte": cutoff}).count()

    def delete_batch(cutoff: datetime, size: int) -> int:
        # Kratos's DELETE … WHERE id IN (SELECT id … ORDER BY expires_at LIMIT n), written as two
        # statements because MySQL cannot LIMIT a subquery that reads the table being deleted from.
        with transaction.atomic():
            ids = list(manager.filter(**{f"{field}__lte": cutoff}).order_by(field).values_list("pk", flat=True)[:size])
            _, per_model = manager.filter(pk__in=ids).delete()
        return per_model.get(model._meta.label, 0)

    return Cleanup(label, count, delete_batch)
