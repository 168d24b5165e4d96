"""`manage.py cleanup [--keep-last DURATION] [-b N]`: delete expired sessions, flows and the like.

Kratos's `cleanup sql` (`cmd/cleanup/sql.go`): rows that expired more than `--keep-last` ago (a Go
duration, default 0) go, `-b` at a time (default `database.cleanup.batch_size`, 100). Kratos
removes one batch per table and run; this removes every expired row, batch after batch, with
progress. What is cleaned is the registry in `kratos_project.cleanup`, filled by each app.
"""
from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kratos_project import clock
from kratos_project.cleanup import CLEANUPS, in_batches
from kratos_project.config import get_config, parse_duration
from kratos_project.progress import ProgressBar, add_progress_argument


def _duration(value: str) -> timedelta:
    try:
        duration = parse_duration(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    if duration < timedelta(0):
        raise argparse.ArgumentTypeError(f"must not be negative, not {value!r}")
    return duration


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return size


class Command(BaseCommand):
    help = "Delete expired sessions and flows, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep-last", type=_duration, default=timedelta(0), metavar="DURATION",
                            help="Keep rows that expired less than this long ago (Go duration, e.g. 24h; default 0).")
        parser.add_argument("-b", "--batch-size", type=_batch_size,
                            default=get_config().get("database.cleanup.batch_size", 100),
                            help="Rows deleted per statement (default: database.cleanup.batch_size, 100).")
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = clock.now() - options["keep_last"]
        for cleanup in CLEANUPS:
            deleted = 0
            with ProgressBar(self.stderr, cleanup.count(cutoff), mode=options["progress"], unit=cleanup.label) as bar:
                for count in in_batches(cleanup, cutoff, options["batch_size"]):
                    deleted += count
                    bar.advance(count)
            if options["verbosity"] >= 1:
                self.stdout.write(f"deleted {deleted} expired {cleanup.label}")
