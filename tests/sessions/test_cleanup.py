"""`manage.py cleanup`: expired sessions go in batches, across networks; other apps can register theirs."""
from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from identities.models import Network
from identities.services import IdentityDraft, create_identity
from kratos_project import clock
from kratos_project.cleanup import CLEANUPS, Cleanup, register
from kratos_project.tenancy import bind_network
from sessions_app.models import Session
from sessions_app.services import issue_session

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("cleanup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _expire(session: Session, ago: timedelta) -> None:
    Session.all_networks.filter(id=session.id).update(expires_at=clock.now() - ago)


@pytest.fixture
def aged(sign_in):
    """Sessions expired 2 days ago (3), expired 10 minutes ago (2), and active (2)."""
    made = {"old": [sign_in()[0] for _ in range(3)], "recent": [sign_in()[0] for _ in range(2)],
            "active": [sign_in()[0] for _ in range(2)]}
    for session in made["old"]:
        _expire(session, timedelta(days=2))
    for session in made["recent"]:
        _expire(session, timedelta(minutes=10))
    return made


def _remaining() -> set:
    return set(Session.all_networks.values_list("id", flat=True))


def test_deletes_every_expired_session_in_batches_with_progress(aged):
    out, err = _run("-b", "2", "--progress", "always")

    assert _remaining() == {s.id for s in aged["active"]}
    assert "deleted 5 expired sessions" in out
    assert "5/5" in err and "sessions/s" in err


def test_keep_last_spares_recently_expired_sessions(aged):
    out, _ = _run("--keep-last", "1h", "--batch-size", "1")

    assert _remaining() == {s.id for s in aged["active"] + aged["recent"]}
    assert "deleted 3 expired sessions" in out


def test_every_network_is_cleaned(aged):
    with bind_network(Network.objects.create().id):
        identity = create_identity(IdentityDraft(schema_id="default", traits={"email": "ada@example.org"}))
        foreign, _ = issue_session(identity, method="password")
    _expire(foreign, timedelta(days=1))

    _run()

    assert foreign.id not in _remaining()


def test_nothing_expired_deletes_nothing(sign_in):
    session, _ = sign_in()

    out, _ = _run()

    assert _remaining() == {session.id} and "deleted 0 expired sessions" in out


@pytest.mark.parametrize("args", [("--keep-last", "a day"), ("--keep-last", "-1h"), ("-b", "0")])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError):
        _run(*args)


def test_registered_cleanups_run_too():
    calls: list[tuple[datetime, int]] = []

    def delete_batch(cutoff: datetime, size: int) -> int:
        calls.append((cutoff, size))
        return 7 if len(calls) == 1 else 3  # a full batch, then the rest

    extra = Cleanup("widgets", count=lambda cutoff: 10, delete_batch=delete_batch)
    register(extra)
    register(extra)  # ready() may run twice
    try:
        out, _ = _run("--keep-last", "30m", "-b", "7")
    finally:
        CLEANUPS.remove(extra)

    assert "deleted 10 expired widgets" in out
    assert [size for _, size in calls] == [7, 7]
    assert abs(calls[0][0] - (clock.now() - timedelta(minutes=30))) < timedelta(seconds=5)
