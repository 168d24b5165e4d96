"""`manage.py serve [--config FILE] [--dev] [--watch-courier]`: both listeners under gunicorn.

As `kratos serve`: the public API on `serve.public.port` (4433) and the admin API on
`serve.admin.port` (4434), each its own gunicorn master, stopped together on SIGINT/SIGTERM.
With `--watch-courier` a third child, `manage.py courier_watch`, sends queued messages.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from kratos_project.config import ServeConfig, get_config

STOP_TIMEOUT_SECONDS = 20


def gunicorn_command(surface: str, serve: ServeConfig, *, workers: int, threads: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", f"kratos_project.wsgi_{surface}:application",
        "--pythonpath", str(settings.BASE_DIR),  # serve works from any working directory
        "--bind", f"{serve.host}:{serve.port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--name", f"kratos-{surface}", "--access-logfile", "-", "--graceful-timeout", "10",
    ]


def courier_command() -> list[str]:
    # The config file and --dev reach the child through the environment manage.py set.
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), "courier_watch"]


class Command(BaseCommand):
    help = "Serve the public and admin APIs (Kratos `serve`). --config FILE and --dev are read by manage.py."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--watch-courier", action="store_true",
                            help="Also run the courier dispatcher (manage.py courier_watch).")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        config = get_config()
        if config.generated_secrets:
            self.stderr.write("warning: no secrets configured; using generated secrets valid for this process only")
        commands = [gunicorn_command(surface, serve, workers=options["workers"], threads=options["threads"])
                    for surface, serve in (("public", config.public), ("admin", config.admin))]
        if options["watch_courier"]:
            commands.append(courier_command())
        children = [subprocess.Popen(command, env=os.environ.copy()) for command in commands]
        self.stdout.write(f"public API on {config.public.base_url} (port {config.public.port}), "
                          f"admin API on {config.admin.base_url} (port {config.admin.port})")
        self._supervise(children)

    def _supervise(self, children: list[subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
        failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
        if failed and not stopping:
            raise SystemExit(f"a listener stopped unexpectedly (exit codes {failed})")
