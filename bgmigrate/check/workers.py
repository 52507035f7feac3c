"""Reading and parsing migration files in worker processes, in migration order.

Reading a file (its layout, statements, tags) and parsing its statements need nothing from
the files before it, so they can run apart; the rules cannot, since what an earlier file
created decides a later verdict. Workers read and parse batches of files, and the one process
that runs the rules takes their units and operations in the order of the files, so the report
is the serial run's, byte for byte. At most a few batches per worker are in flight: memory
stays flat however many files there are.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

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
    """Each file read and its statements parsed by `jobs` worker processes, in `listed` order."""
    # Imported here: a check of a few files (the pre-commit hook) never starts a worker.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    batches = [listed[start : start + _BATCH] for start in range(0, len(listed), _BATCH)]
    # fork: the workers start with the parser and the layouts already imported. Where there
    # is no fork (Windows, macOS's default), spawn imports them once per worker.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending: deque[Future[list[Parsed]]] = deque()
        queued = iter(batches)
        for batch in queued:
            pending.append(pool.submit(_read_batch, batch, assume_in_transaction))
            if len(pending) >= jobs * _AHEAD:
                break
        while pending:
            done = pending.popleft().result()
            following = next(queued, None)
            if following is not None:
                pending.append(pool.submit(_read_batch, following, assume_in_transaction))
            yield from done


def _read_batch(batch: Sequence[Listed], assume_in_transaction: bool) -> list[Parsed]:
    from bgmigrate.check.engine import parse_unit

    parsed = []
    for migration, path in batch:
        read = read_file(migration, path, assume_in_transaction=assume_in_transaction)
        parsed.append((read, parse_unit(read.unit) if read.unit is not None else []))
    return parsed
