"""`manage.py courier_watch`: one pass on demand, and the worker process that runs until SIGTERM."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from courier import services
from kratos_project.tenancy import bind_network, default_nid

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _test_database_dsn() -> str:
    """The DSN of the database this test run created, for a worker process of its own."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite://{name}?_fk=true"
    base, question, query = os.environ["DSN"].partition("?")
    return f"{base.rpartition('/')[0]}/{name}{question}{query}"


@pytest.mark.django_db
def test_once_runs_one_pass_and_reports_it(smtp, queue_email):
    queue_email()
    out = io.StringIO()

    call_command("courier_watch", "--once", stdout=out)

    assert out.getvalue().strip() == "claimed 1: sent 1, failed 0, abandoned 0"
    assert len(smtp.mails) == 1


@pytest.mark.django_db(transaction=True)
def test_worker_process_sends_queued_mail_and_stops_on_sigterm(smtp, kratos_env):
    kratos_env(COURIER_WORKER_PULL_WAIT="100ms")
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["DSN"] = _test_database_dsn()
    worker = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "courier_watch"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with bind_network(default_nid()):
            services.enqueue_email(to="ada@example.org", template_type="stub", data={"subject": "hi", "body": "b"})

        delivered = _wait_for(lambda: len(smtp.mails) == 1)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()

    assert delivered, stderr
    assert worker.returncode == 0, stderr
    assert "Courier worker started." in stderr and "Courier worker was shutdown gracefully." in stderr
    assert "courier: sent email message" in stderr and "ada@example.org" not in stderr  # no recipient in logs
