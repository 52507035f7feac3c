"""Reading and parsing migration files in worker processes, in migration order.

Reading a file (its layout, statements, tags) and parsing its statements need nothing from
the files before it, so they can run apart; the rules cannot, since what an earlier file
created decides a later verdict. Workers read and parse batches of files, and the one process
that runs the rules takes their units and operations in the order of the files, so the report
is the serial run's, byte for byte; while the next batch in order is not back, that process
reads and parses the next batch itself. At most a few batches per process are in flight or
held: memory stays flat however many files there are.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from bgmigrate.parse.operations import Operation
from bgmigrate.source.layouts.base import MigrationFile
from bgmigrate.source.layouts.read import ReadMigration, read_migration, unreadable
from bgmigrate.source.reading import read_source_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from bgmigrate.check.worker_process import WorkerProcess

__all__ = ["PARALLEL_FROM", "available_cpus", "read_file", "read_in_workers"]

PARALLEL_FROM = 200
"""Files below which one process is quicker than starting workers (measured: see
benchmarks/RESULTS.md, "Check speed: cache and workers")."""
_BATCH = 25
"""Files per task: enough to make each message worth sending, few enough to keep all busy."""
_LAST_BATCH = 5
"""Files per task at the end of a run: smaller, so that no process waits long for another's
last one."""
_AHEAD = 4
"""Batches in flight per worker."""

Listed = tuple[MigrationFile, str]
"""A migration and its path as the report shows it."""
Parsed = tuple[ReadMigration, list[list[Operation]]]
"""A migration read, and its unit's statements' operations."""


def available_cpus() -> int:
    """The processors this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def read_file(migration: MigrationFile, path: str, *, assume_in_transaction: bool) -> ReadMigration:
    """One migration file read as its tool runs it (`path` is the name the report shows)."""
    source = read_source_text(migration.path)
    if source.problem is not None and not source.text:
        return ReadMigration(unreadable(source, path))
    return read_migration(migration, source, path, assume_in_transaction=assume_in_transaction)


def read_in_workers(
    listed: Sequence[Listed], *, assume_in_transaction: bool, jobs: int
) -> Iterator[Parsed]:
    """Each file read and its statements parsed by `jobs` processes, in `listed` order: this
    one and `jobs - 1` workers.

    This process takes its share of the batches rather than wait: whenever the next batch in
    order is not back yet, it reads and parses the next batch no one has started, itself.
    What it parses itself is never pickled, sent and unpickled, and it has one process fewer
    to share the processors with; the share it takes follows what the rules leave it time
    for. It has no other thread: it takes what the workers finished between two files (see
    `_Worker`)."""
    # The parser, imported (and libpg_query loaded) once, before the workers are forked,
    # instead of once in each process.
    import bgmigrate.parse.postgres  # noqa: F401

    batches = _batches(listed, jobs)
    del listed  # each batch is let go here once started (the workers hold their own copy)
    workers: list[_Worker] = []
    for _ in range(jobs - 1):
        workers.append(_Worker(batches, assume_in_transaction, workers))
    most = 2 * jobs * _AHEAD  # batches started and not yet checked: memory stays flat

    def take_finished() -> None:
        for worker in workers:
            worker.take_finished()

    completed = False
    try:
        # Batches before `started`: with a worker, or parsed here and held until their turn.
        held: dict[int, _Worker | list[Parsed]] = {}
        started = 0
        for index in range(len(batches)):
            while True:
                take_finished()
                for worker in workers:
                    while (
                        worker.busy < _AHEAD and started < len(batches) and started - index < most
                    ):
                        worker.start(started)
                        batches[started] = ()
                        held[started] = worker
                        started += 1
                owner = held.get(index)
                if isinstance(owner, _Worker) and not owner.finished(index):
                    if started == len(batches) or started - index >= most:
                        break  # nothing left to parse here: wait for the worker
                elif owner is not None:
                    break
                # The next batch in order is not back (or no worker could take it): parse
                # the next one no one has started here, taking what workers finish meanwhile.
                batch, batches[started] = batches[started], ()
                held[started] = _read_batch(batch, assume_in_transaction, take_finished)
                del batch
                started += 1
            owner = held.pop(index)
            for parsed in owner if isinstance(owner, list) else owner.result(index):
                yield parsed
                take_finished()
        completed = True
    finally:
        for worker in workers:
            worker.stop(completed)


def _batches(listed: Sequence[Listed], jobs: int) -> list[Sequence[Listed]]:
    """`listed` cut into batches of `_BATCH` files, smaller towards the end, down to
    `_LAST_BATCH`: each process has as many batches ahead as it may be sent, so a batch
    shrinks with what is left to share (measured: with batches of 25 to the end, the process
    running the rules waited 10 to 30 ms for the worker's last ones, its processor idle)."""
    batches: list[Sequence[Listed]] = []
    start = 0
    while start < len(listed):
        size = max(_LAST_BATCH, min(_BATCH, (len(listed) - start) // (2 * jobs * _AHEAD)))
        batches.append(listed[start : start + size])
        start += size
    return batches


class _Worker:
    """A worker process, sent batch numbers, sending back each batch read and parsed,
    pickled, in the order it was sent them.

    This process takes what a worker finished whenever it can (between two files it parses
    or checks), so that the worker never waits for a full pipe to be read, and takes it in
    its one thread. A thread reading results in the background (as `concurrent.futures` has
    two) must take the interpreter's lock for each, and each call into libpg_query that lets
    go of it could hand it over: measured, calls of microseconds stalled for milliseconds."""

    def __init__(
        self, batches: list[Sequence[Listed]], wrapped: bool, others: list[_Worker]
    ) -> None:
        from bgmigrate.check.worker_process import start_worker

        serve = partial(_serve, batches=batches, wrapped=wrapped)
        self.process: WorkerProcess = start_worker(serve, [w.process for w in others])
        self.sent: deque[int] = deque()
        """Batch numbers sent, whose results have not been received yet, in order."""
        self.received: dict[int, bytes] = {}

    @property
    def busy(self) -> int:
        return len(self.sent)

    def start(self, index: int) -> None:
        self.process.send(index)
        self.sent.append(index)

    def take_finished(self) -> None:
        """Receive the results the worker has finished, without waiting for the next."""
        while self.sent and self.process.ready():
            self._receive()

    def finished(self, index: int) -> bool:
        return index in self.received

    def result(self, index: int) -> list[Parsed]:
        """Batch `index`'s files, waiting for the worker if it has not finished it."""
        while index not in self.received:
            self._receive()
        from bgmigrate.check.worker_pickle import unpickled

        loaded = unpickled(self.received.pop(index))
        if isinstance(loaded, BaseException):
            raise loaded
        return loaded  # type: ignore[no-any-return]

    def _receive(self) -> None:
        self.received[self.sent.popleft()] = self.process.receive()

    def stop(self, completed: bool) -> None:
        """End the worker: told to, when it has sent every batch it was sent; else it may be
        busy, or waiting for its pipe to be read, and is terminated."""
        self.process.stop(completed)


def _serve(
    receive: Callable[[], int | None],
    send: Callable[[bytes], None],
    *,
    batches: list[Sequence[Listed]],
    wrapped: bool,
) -> None:
    """A worker process: reads and parses the batches it is sent the numbers of, until it is
    told to stop or the run is gone."""
    from bgmigrate.check.worker_pickle import pickled

    while (index := receive()) is not None:
        try:
            message = pickled(_read_batch(batches[index], wrapped))
        except Exception as error:  # a bug, raised again in the process running the rules
            message = pickled(error)
        send(message)


def _read_batch(
    batch: Sequence[Listed],
    assume_in_transaction: bool,
    after_each: Callable[[], None] | None = None,
) -> list[Parsed]:
    """The batch's files read and parsed, calling `after_each` after each one."""
    from bgmigrate.check.engine import parse_unit

    parsed = []
    for migration, path in batch:
        read = read_file(migration, path, assume_in_transaction=assume_in_transaction)
        parsed.append((read, parse_unit(read.unit) if read.unit is not None else []))
        if after_each is not None:
            after_each()
    return parsed
