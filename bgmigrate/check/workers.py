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

import dataclasses
import io
import os
import pickle
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from bgmigrate.parse.operations import Operation
from bgmigrate.source.layouts.base import MigrationFile
from bgmigrate.source.layouts.read import ReadMigration, read_migration, unreadable
from bgmigrate.source.reading import read_source_text

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["PARALLEL_FROM", "available_cpus", "read_file", "read_in_workers"]

PARALLEL_FROM = 200
"""Files below which one process is quicker than starting workers (measured: see
benchmarks/RESULTS.md, "Check speed: cache and workers")."""
_BATCH = 25
"""Files per task: enough to make each message worth sending, few enough to keep all busy."""
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
    What it parses itself is never pickled, sent and unpickled, which cost a third as much
    as parsing it did, and it has one process fewer to share the processors with; the share
    it takes follows what the rules leave it time for."""
    # Imported here: a check of a few files (the pre-commit hook) never starts a worker.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    batches = iter([listed[start : start + _BATCH] for start in range(0, len(listed), _BATCH)])
    # fork: the workers start with the parser and the layouts already imported. Where there
    # is no fork (Windows, macOS's default), spawn imports them once per worker.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    workers, most = jobs - 1, 2 * jobs * _AHEAD
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # In `listed` order: batches sent to a worker (pickled), and batches this process parsed.
        pending: deque[Future[bytes] | list[Parsed]] = deque()
        while True:
            # Each worker kept `_AHEAD` batches ahead, so that it never waits for this
            # process to take what it finished; at most `most` batches held in all.
            while _running(pending) < workers * _AHEAD and len(pending) < most:
                batch = next(batches, None)
                if batch is None:
                    break
                pending.append(pool.submit(_read_batch_pickled, batch, assume_in_transaction))
            if not pending:
                return
            head = pending[0]
            if not isinstance(head, list) and not head.done() and len(pending) < most:
                own = next(batches, None)
                if own is not None:
                    pending.append(_read_batch(own, assume_in_transaction))
                    continue
            done = pending.popleft()
            yield from done if isinstance(done, list) else pickle.loads(done.result())


def _running(pending: deque[Future[bytes] | list[Parsed]]) -> int:
    """The batches sent to workers and not finished yet."""
    return sum(1 for item in pending if not isinstance(item, list) and not item.done())


def _read_batch(batch: Sequence[Listed], assume_in_transaction: bool) -> list[Parsed]:
    from bgmigrate.check.engine import parse_unit

    parsed = []
    for migration, path in batch:
        read = read_file(migration, path, assume_in_transaction=assume_in_transaction)
        parsed.append((read, parse_unit(read.unit) if read.unit is not None else []))
    return parsed


def _read_batch_pickled(batch: Sequence[Listed], assume_in_transaction: bool) -> bytes:
    """A worker's batch, pickled to be rebuilt by calling each value class (see `_Pickler`)."""
    return _pickled(_read_batch(batch, assume_in_transaction))


def _pickled(parsed: list[Parsed]) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(parsed)
    return buffer.getvalue()


class _Pickler(pickle.Pickler):
    """Pickles a dataclass (the value classes, `Name`) as its class and its fields' values,
    which unpickling passes to the class: building the ~150,000 objects of 2,000 files so is
    a third of the time of pickle's default (a new object, then a dict of its attributes set
    on it), and in the process that runs the rules. A class that computes anything when
    built (`__post_init__`, a field that is no argument) and an object with attributes of its
    own besides its fields are pickled the default way."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        names = _ARGUMENTS.get(kind, False)
        if names is False:
            names = _ARGUMENTS[kind] = _init_arguments(kind)
        if names is None or len(getattr(obj, "__dict__", ())) != len(names):
            return NotImplemented
        return kind, tuple([getattr(obj, name) for name in names])


_ARGUMENTS: dict[type, tuple[str, ...] | None] = {}
"""By class: the fields its `__init__` takes, in order, when they are all its state; else None."""


def _init_arguments(kind: type) -> tuple[str, ...] | None:
    if not dataclasses.is_dataclass(kind) or hasattr(kind, "__post_init__"):
        return None
    fields = dataclasses.fields(kind)
    if not all(field.init for field in fields) or len(fields) != len(kind.__dataclass_fields__):
        return None
    return tuple(field.name for field in fields)
