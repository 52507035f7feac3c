"""What the executor tells the operator while it works, on stderr.

On a terminal: plain lines and a rich progress bar for a backfill (rows, rows/s, ETA). Anywhere
else (CI logs, a deploy pipeline): one JSON object per line, each with an `event` and a human
`message`, so that logs stay readable and machines can follow a backfill.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from typing import IO, Any, Protocol

__all__ = [
    "BatchProgress",
    "JsonLinesReporter",
    "Reporter",
    "TerminalReporter",
    "make_reporter",
]


@dataclass(frozen=True)
class BatchProgress:
    """A backfill after one committed batch. Counts are for the current pass."""

    table: str
    batch: int
    batch_size: int
    batch_seconds: float
    rows_scanned: int
    rows_updated: int
    total_estimate: int | None
    rows_per_second: float
    eta_seconds: float | None

    @property
    def message(self) -> str:
        total = f"/{self.total_estimate}" if self.total_estimate else ""
        eta = f", ETA {self.eta_seconds:.0f}s" if self.eta_seconds is not None else ""
        return (
            f"backfill {self.table}: batch {self.batch}, {self.rows_scanned}{total} rows scanned,"
            f" {self.rows_updated} updated, {self.rows_per_second:.0f} rows/s{eta}"
        )


class Reporter(Protocol):
    def message(self, text: str, event: str = "message", **fields: Any) -> None: ...

    def backfill_started(
        self, table: str, total_estimate: int | None, rows_scanned: int
    ) -> None: ...

    def backfill_batch(self, progress: BatchProgress) -> None: ...

    def backfill_finished(self) -> None: ...


class JsonLinesReporter:
    """One JSON object per line: `{"event": …, "message": …, …}`."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def _emit(self, event: str, message: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), "message": message, **fields}
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()

    def message(self, text: str, event: str = "message", **fields: Any) -> None:
        self._emit(event, text, **fields)

    def backfill_started(self, table: str, total_estimate: int | None, rows_scanned: int) -> None:
        self._emit(
            "backfill-start",
            f"backfill {table}: about {total_estimate} rows, {rows_scanned} already scanned",
            table=table,
            total_estimate=total_estimate,
            rows_scanned=rows_scanned,
        )

    def backfill_batch(self, progress: BatchProgress) -> None:
        self._emit("backfill-batch", progress.message, **asdict(progress))

    def backfill_finished(self) -> None:
        """Nothing to close: every batch already has its line."""


class TerminalReporter:
    """Lines and a live progress bar on a terminal (rich)."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console

        self.console = Console(file=stream, highlight=False)
        self._progress: Any = None
        self._task: Any = None

    def message(self, text: str, event: str = "message", **fields: Any) -> None:
        self.console.print(text, markup=False, soft_wrap=True)

    def backfill_started(self, table: str, total_estimate: int | None, rows_scanned: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("backfill {task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.0f} rows/s"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            table, total=total_estimate, completed=rows_scanned, rate=0.0
        )

    def backfill_batch(self, progress: BatchProgress) -> None:
        if self._progress is None:
            return
        total = max(progress.total_estimate or 0, progress.rows_scanned) or None
        self._progress.update(
            self._task,
            completed=progress.rows_scanned,
            total=total,
            rate=progress.rows_per_second,
        )

    def backfill_finished(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def make_reporter(stream: IO[str] | None = None) -> Reporter:
    """A terminal reporter when `stream` (stderr by default) is a TTY, JSON lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        return TerminalReporter(stream)
    return JsonLinesReporter(stream)
