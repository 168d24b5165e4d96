"""The courier worker (Kratos `courier/courier.go`, `courier_dispatcher.go`, `persister_courier.go`).

Every `courier.worker.pull_wait` the worker claims up to `courier.worker.pull_count` queued
messages, oldest first, and sends them. Lifecycle, as in Kratos:

* claiming turns `queued` into `processing`; each attempt first increments `send_count`;
* success: `sent` and a `success` dispatch;
* failure: a `failed` dispatch with the error, and `queued` again; unlike Kratos (which retries on
  the next pull, and also puts the rest of the batch back) the next attempt waits an exponential
  backoff (`next_attempt_at`) and the rest of the batch is still attempted;
* an SMTP 5xx refusal abandons the message at once; a message claimed with
  `send_count > courier.message_retries` is `abandoned` without another attempt.

Two workers never send one message twice: on PostgreSQL and MySQL/MariaDB the claim is
`SELECT … FOR UPDATE SKIP LOCKED` and an UPDATE in one transaction; SQLite has no row locks, so
each message is claimed by a compare-and-set UPDATE that only one worker can win. A claim is a
lease (`next_attempt_at` while `processing`); a message whose worker died is claimed again when
its lease has run out, and may then be sent a second time (at-least-once, as any mail queue).

The worker serves every network of the installation (`all_networks`); each message is handled
inside its own network's binding.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.db import DatabaseError, close_old_connections, connection, transaction

from courier.channels import DeliveryError, channel_for
from courier.models import Dispatch, DispatchStatus, Message, MessageStatus
from kratos_project import clock
from kratos_project.config import get_config, parse_duration
from kratos_project.tenancy import bind_network

logger = logging.getLogger("kratos.courier")

# Long enough for one attempt (an SMTP dial and send time out after 10 s each).
LEASE = timedelta(minutes=5)
RETRY_BASE = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=10)
# After a database error the worker waits longer each time, up to this (Kratos's ExponentialBackOff).
ERROR_WAIT_MAX = timedelta(minutes=1)


@dataclass
class PassResult:
    """What one pass did, by outcome; `claimed` is how many messages it took."""

    claimed: int = 0
    sent: list[UUID] = field(default_factory=list)
    failed: list[UUID] = field(default_factory=list)
    abandoned: list[UUID] = field(default_factory=list)


def dispatch_queue() -> PassResult:
    """One pass: claim a batch, attempt each message."""
    config = get_config()
    messages = claim(config.get("courier.worker.pull_count", 10))
    result = PassResult(claimed=len(messages))
    retries = config.get("courier.message_retries", 5)
    for message in messages:
        with bind_network(message.nid_id):
            _attempt(message, retries, result)
    return result


def watch(stop: threading.Event) -> None:
    """Run passes until `stop` is set: `pull_wait` apart, back to back while full batches come."""
    config = get_config()
    pull_wait = parse_duration(config.get("courier.worker.pull_wait", "1s"))
    pull_count = config.get("courier.worker.pull_count", 10)
    errors = 0
    logger.info("Courier worker started.")
    while not stop.is_set():
        close_old_connections()  # a long-lived process honours CONN_MAX_AGE and health checks here
        try:
            claimed = dispatch_queue().claimed
        except DatabaseError:
            errors += 1
            wait = min(pull_wait * 2 ** errors, ERROR_WAIT_MAX)
            logger.exception("courier: the message queue is unavailable; retrying in %.1fs", wait.total_seconds())
            stop.wait(wait.total_seconds())
            continue
        errors = 0
        if claimed < pull_count:
            stop.wait(pull_wait.total_seconds())
    logger.info("Courier worker was shutdown gracefully.")


def claim(limit: int) -> list[Message]:
    """Take up to `limit` due messages, oldest first, so that no other worker can take them too.

    Due: queued and past its backoff, or processing and past its lease (its worker stopped).
    """
    now = clock.now()
    if connection.features.has_select_for_update_skip_locked:
        claimed = _claim_skipping_locked(limit, now)
    else:
        claimed = _claim_by_compare_and_set(limit, now)
    if stale := sum(status == MessageStatus.PROCESSING for _, status in claimed):
        logger.warning("courier: took over %d message(s) whose worker stopped before finishing", stale)
    # `all_networks`: the worker serves every network.
    return list(Message.all_networks.filter(id__in=[i for i, _ in claimed]).order_by("created_at", "id"))


# Expired leases first: they are rare, and a busy queue must not starve them.
_CLAIMABLE = (MessageStatus.PROCESSING, MessageStatus.QUEUED)


def _due(status: str, now: datetime) -> dict[str, object]:
    return {"status": status, "next_attempt_at__lte": now}


def _leased(now: datetime) -> dict[str, object]:
    return {"status": MessageStatus.PROCESSING, "next_attempt_at": now + LEASE, "updated_at": now}


def _claim_skipping_locked(limit: int, now: datetime) -> list[tuple[UUID, str]]:
    # Rows another worker has locked are skipped, not waited for, so workers split the queue and
    # never wait on each other. One status at a time, so the (status, created_at) index yields
    # rows in order and only the rows taken get locked (a sort would lock every due row).
    claimed: list[tuple[UUID, str]] = []
    with transaction.atomic():
        for status in _CLAIMABLE:
            due = Message.all_networks.select_for_update(skip_locked=True).filter(**_due(status, now))
            claimed += due.order_by("created_at").values_list("id", "status")[: limit - len(claimed)]
        Message.all_networks.filter(id__in=[i for i, _ in claimed]).update(**_leased(now))
    return claimed


def _claim_by_compare_and_set(limit: int, now: datetime) -> list[tuple[UUID, str]]:
    claimed: list[tuple[UUID, str]] = []
    for status in _CLAIMABLE:
        tried: set[UUID] = set()
        while len(claimed) < limit:
            due = Message.all_networks.filter(**_due(status, now)).exclude(id__in=tried).order_by("created_at")
            candidates = list(due.values_list("id", flat=True)[: limit - len(claimed)])
            if not candidates:
                break
            tried.update(candidates)
            # SQLite runs one write at a time: of two workers updating the same due row, the second
            # finds it no longer due (the first moved `next_attempt_at` past now) and changes
            # nothing. A lost row is replaced by the next due one.
            claimed += [(i, status) for i in candidates
                        if Message.all_networks.filter(id=i, **_due(status, now)).update(**_leased(now)) == 1]
    return claimed


def _attempt(message: Message, retries: int, result: PassResult) -> None:
    if message.send_count > retries:
        _set_status(message, MessageStatus.ABANDONED)
        result.abandoned.append(message.id)
        logger.warning("courier: abandoned message %s (%s) after %d attempts", message.id, message.template_type,
                       message.send_count)
        return
    _count_attempt(message)
    started = time.monotonic()
    try:
        channel_for(message.channel).send(message)
    except DeliveryError as error:
        _record_failure(message, error, result)
    except Exception as error:  # noqa: BLE001 (one broken message must not stop the worker)
        logger.exception("courier: unexpected error while sending message %s", message.id)
        _record_failure(message, DeliveryError(message=f"{type(error).__name__}: {error}"), result)
    else:
        with transaction.atomic():
            _set_status(message, MessageStatus.SENT)
            Dispatch.objects.create(message=message, status=DispatchStatus.SUCCESS, error=None)
        result.sent.append(message.id)
        logger.info("courier: sent %s message %s (%s) via %s, attempt %d, in %.0f ms", message.type, message.id,
                    message.template_type, message.channel, message.send_count, (time.monotonic() - started) * 1000)


def _count_attempt(message: Message) -> None:
    now = clock.now()
    message.send_count += 1
    # The attempt renews the lease, so only a worker that stopped mid-attempt loses the message.
    Message.all_networks.filter(id=message.id).update(send_count=message.send_count, next_attempt_at=now + LEASE,
                                                      updated_at=now)


def _record_failure(message: Message, error: DeliveryError, result: PassResult) -> None:
    with transaction.atomic():
        Dispatch.objects.create(message=message, status=DispatchStatus.FAILED, error=error.record())
        if error.permanent:
            _set_status(message, MessageStatus.ABANDONED)
        else:
            _set_status(message, MessageStatus.QUEUED, next_attempt_at=clock.now() + retry_delay(message.send_count))
    (result.abandoned if error.permanent else result.failed).append(message.id)
    logger.warning("courier: attempt %d of message %s (%s) via %s failed%s: %s", message.send_count, message.id,
                   message.template_type, message.channel, ", abandoned" if error.permanent else "", error.message)


def retry_delay(attempts: int) -> timedelta:
    """5 s after the first failed attempt, doubling each time, at most 10 minutes."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def _set_status(message: Message, status: str, *, next_attempt_at: datetime | None = None) -> None:
    now = clock.now()
    message.status = status
    Message.all_networks.filter(id=message.id).update(status=status, updated_at=now,
                                                      next_attempt_at=next_attempt_at or now)
