"""Two workers at once deliver every message exactly once (SKIP LOCKED, or compare-and-set on SQLite)."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from courier import services
from courier.dispatcher import PassResult, dispatch_queue
from courier.models import Dispatch, Message
from kratos_project.tenancy import bind_network, default_nid

MESSAGES = 60
WORKERS = 2


def _work(results: list[PassResult], errors: list[BaseException], start: threading.Barrier) -> None:
    try:
        start.wait()  # both workers poll the same queue from the start
        while (result := dispatch_queue()).claimed:
            results.append(result)
    except BaseException as error:  # noqa: BLE001 (reported to the test thread)
        errors.append(error)
    finally:
        connection.close()  # each thread has its own connection; close it before the test database goes


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_message_exactly_once(smtp, kratos_env):
    kratos_env(COURIER_WORKER_PULL_COUNT="4")
    with bind_network(default_nid()):
        for number in range(MESSAGES):
            services.enqueue_email(to=f"user{number}@example.org", template_type="stub",
                                   data={"subject": f"message {number}", "body": "hello"})
    results: list[list[PassResult]] = [[] for _ in range(WORKERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)
    threads = [threading.Thread(target=_work, args=(mine, errors, start)) for mine in results]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    subjects = Counter(mail["Subject"] for mail in smtp.mails)
    assert len(subjects) == MESSAGES and set(subjects.values()) == {1}
    sent_by = [[message_id for result in mine for message_id in result.sent] for mine in results]
    sent = [message_id for mine in sent_by for message_id in mine]
    assert len(sent) == len(set(sent)) == MESSAGES
    assert all(sent_by), "each worker should have taken part"
    assert set(Message.all_networks.values_list("status", "send_count")) == {("sent", 1)}
    assert Dispatch.all_networks.filter(status="success").count() == MESSAGES
