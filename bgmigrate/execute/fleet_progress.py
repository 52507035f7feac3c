"""What the operator sees while a fleet runs, on stderr.

On a terminal: a live table (rich) with one row per target in progress, its last event and its
backfill, under a line counting the targets done, skipped and failed. Anywhere else (CI, a
deploy log): plain lines, each starting with the target's label; a backfill prints at most one
progress line per target every few seconds, so that fifty targets do not flood the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from bgmigrate.execute.fleet import FINISHED, FleetDisplay, TargetOutcome
from bgmigrate.execute.progress import BatchProgress, Reporter
from bgmigrate.execute.targets import Target

__all__ = ["LinesFleetDisplay", "TableFleetDisplay", "TargetReporter", "make_fleet_display"]

BACKFILL_LINE_SECONDS = 5.0


class TargetReporter:
    """The executor's Reporter for one target: forwards what it says to the fleet display."""

    def __init__(self, display: _SharedDisplay, target: Target) -> None:
        self.display = display
        self.target = target

    def message(self, text: str, event: str = "message", **fields: Any) -> None:
        self.display.event(self.target, text.splitlines()[0] if text else text)

    def backfill_started(self, table: str, total_estimate: int | None, rows_scanned: int) -> None:
        about = f"about {total_estimate} rows" if total_estimate else "size unknown"
        self.display.event(self.target, f"backfill {table}: {about}, {rows_scanned} done before")

    def backfill_batch(self, progress: BatchProgress) -> None:
        self.display.backfill(self.target, progress)

    def backfill_finished(self) -> None:
        """The next event replaces the progress."""


class _SharedDisplay(FleetDisplay):
    """What both displays share: a lock, and a reporter per target."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def reporter(self, target: Target) -> Reporter:
        return TargetReporter(self, target)

    def event(self, target: Target, text: str) -> None:
        raise NotImplementedError

    def backfill(self, target: Target, progress: BatchProgress) -> None:
        raise NotImplementedError


class LinesFleetDisplay(_SharedDisplay):
    """`[target] message` lines."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream
        self._last_backfill_line: dict[Target, float] = {}

    def _line(self, target: Target, text: str) -> None:
        with self.lock:
            self.stream.write(f"[{target.label}] {text}\n")
            self.stream.flush()

    def event(self, target: Target, text: str) -> None:
        self._line(target, text)

    def backfill(self, target: Target, progress: BatchProgress) -> None:
        now = time.monotonic()
        if now - self._last_backfill_line.get(target, 0.0) >= BACKFILL_LINE_SECONDS:
            self._last_backfill_line[target] = now
            self._line(target, progress.message)

    def finished(self, outcome: TargetOutcome) -> None:
        reason = f": {outcome.reason}" if outcome.reason else ""
        self._line(outcome.target, f"{outcome.outcome}{reason}")


class TableFleetDisplay(_SharedDisplay):
    """A live table of the targets in progress."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console

        super().__init__()
        self.console = Console(file=stream, highlight=False)
        self._rows: dict[Target, tuple[str, str]] = {}
        self._counts = {"done": 0, "skipped": 0, "failed": 0}
        self._total = 0
        self._live: Any = None

    def _render(self) -> Any:
        from rich.table import Table

        counts = self._counts
        table = Table(
            title=f"{counts['done']}/{self._total} done, {counts['skipped']} skipped, "
            f"{counts['failed']} failed",
            title_justify="left",
            expand=True,
        )
        table.add_column("target", overflow="fold", ratio=2)
        table.add_column("step", overflow="ellipsis", no_wrap=True, ratio=3)
        table.add_column("backfill", no_wrap=True, ratio=2)
        for target, (step, backfill) in self._rows.items():
            table.add_row(target.label, step, backfill)
        return table

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def event(self, target: Target, text: str) -> None:
        with self.lock:
            _, backfill = self._rows.get(target, ("", ""))
            self._rows[target] = (text, backfill)
            self._refresh()

    def backfill(self, target: Target, progress: BatchProgress) -> None:
        total = f"/{progress.total_estimate}" if progress.total_estimate else ""
        eta = f", ETA {progress.eta_seconds:.0f}s" if progress.eta_seconds is not None else ""
        with self.lock:
            step, _ = self._rows.get(target, ("backfill", ""))
            self._rows[target] = (step, f"{progress.rows_scanned}{total} rows{eta}")
            self._refresh()

    def finished(self, outcome: TargetOutcome) -> None:
        with self.lock:
            self._rows.pop(outcome.target, None)
            kind = "done" if outcome.outcome in FINISHED else outcome.outcome
            if kind in self._counts:
                self._counts[kind] += 1
            if outcome.outcome == "failed":
                self.console.print(
                    f"failed: {outcome.target.label}: {outcome.reason}", markup=False
                )
            self._refresh()

    @contextmanager
    def running(self, targets: Sequence[Target]) -> Iterator[None]:
        from rich.live import Live

        self._total = len(targets)
        with Live(self._render(), console=self.console, refresh_per_second=4) as live:
            self._live = live
            try:
                yield
            finally:
                self._live = None


def make_fleet_display(stream: IO[str]) -> FleetDisplay:
    """The live table when `stream` is a terminal, plain lines otherwise."""
    if stream.isatty():
        return TableFleetDisplay(stream)
    return LinesFleetDisplay(stream)
