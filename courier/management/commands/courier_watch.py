"""`manage.py courier_watch [--once]`: the message dispatcher (Kratos `courier watch`).

Sends queued courier messages until SIGINT/SIGTERM, then finishes the message in hand and stops.
`serve --watch-courier` runs this command beside the listeners. `--once` runs a single pass (for
cron jobs and scripts) and reports what it did.
"""
from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courier import dispatcher


class Command(BaseCommand):
    help = "Send queued courier messages (email over SMTP or HTTP, SMS over HTTP)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one dispatch pass and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            result = dispatcher.dispatch_queue()
            self.stdout.write(f"claimed {result.claimed}: sent {len(result.sent)}, failed {len(result.failed)}, "
                              f"abandoned {len(result.abandoned)}")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        dispatcher.watch(stop)
