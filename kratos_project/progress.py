"""A one-line progress bar for long-running management commands (imports, cleanup, …).

On a terminal the line is redrawn in place (`\\r`) with done/total, percent, rate and ETA. When the
stream is a pipe or a file nothing is drawn, so logs and CI output hold only what the command
reports itself.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import timedelta

from django.core.management.base import CommandParser, OutputWrapper

MODES = ("auto", "always", "never")
_BAR_WIDTH = 24


def add_progress_argument(parser: CommandParser) -> None:
    # Hidden: `auto` (draw only on a terminal) is what an operator wants; tests force `always`.
    parser.add_argument("--progress", choices=MODES, default="auto", help=argparse.SUPPRESS)


def _unstyled(text: str) -> str:
    return text


class ProgressBar:
    """`with ProgressBar(self.stderr, total, mode=options["progress"]) as bar: … bar.advance(n)`.

    `mode`: "auto" draws only when `stream` is a TTY, "always" and "never" force it. Call `clear()`
    before writing other lines to the terminal; the next `advance()` draws the bar again.
    """

    def __init__(self, stream: OutputWrapper, total: int, *, mode: str = "auto", unit: str = "items",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self.enabled = mode == "always" or (mode == "auto" and stream.isatty())
        self._stream = stream
        self._unit = unit
        self._clock = clock
        self._started = clock()
        self._drawn_width = 0

    def __enter__(self) -> ProgressBar:
        self._draw()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._drawn_width:
            # Keep the final state visible and let the next output start on its own line.
            self._write("\n")
            self._drawn_width = 0

    def advance(self, count: int) -> None:
        self.done += count
        self._draw()

    def clear(self) -> None:
        if self._drawn_width:
            self._write("\r" + " " * self._drawn_width + "\r")
            self._drawn_width = 0

    def render(self) -> str:
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * _BAR_WIDTH)
        elapsed = self._clock() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        return (f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {self.done}/{self.total} {fraction:6.1%} "
                f"{rate:.1f} {self._unit}/s ETA {self._eta(rate)}")

    def _eta(self, rate: float) -> str:
        remaining = max(self.total - self.done, 0)
        if not remaining:
            return "0:00:00"
        if rate <= 0:
            return "-:--:--"
        return str(timedelta(seconds=round(remaining / rate)))

    def _draw(self) -> None:
        if not self.enabled:
            return
        text = self.render()
        # Pad to the previous width: `\r` only moves the cursor, it does not erase a longer line.
        self._write("\r" + text.ljust(self._drawn_width))
        self._drawn_width = len(text)

    def _write(self, text: str) -> None:
        # Django's wrapper would append "\n" and colour stderr as an error; the bar wants neither.
        self._stream.write(text, style_func=_unstyled, ending="")
        self._stream.flush()
