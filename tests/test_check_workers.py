"""Reading and parsing in worker processes and in this one: the files come back in order."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from bgmigrate.check import workers
from bgmigrate.check.engine import parse_unit
from bgmigrate.check.worker_pickle import pickled
from bgmigrate.source.layouts.base import MigrationFile
from bgmigrate.source.layouts.read import ReadMigration


def test_batches_parsed_here_and_in_a_worker_come_back_in_order(tmp_path: Path) -> None:
    """Twelve batches: more than the worker is sent ahead, so this process parses those it
    reaches while waiting (how many depends on timing; the order never does)."""
    listed = []
    for number in range(300):
        path = tmp_path / f"{number:03}.sql"
        path.write_text(f"ALTER TABLE t{number} ADD COLUMN c{number} int;\n")
        listed.append((MigrationFile(path, "plain"), path.name))
    parsed = list(workers.read_in_workers(listed, assume_in_transaction=False, jobs=2))
    assert [read.unit.path for read, _ in parsed if read.unit] == [name for _, name in listed]
    assert [operations for read, operations in parsed] == [
        parse_unit(read.unit) for read, _ in parsed if read.unit
    ]
    assert [op.column.name for read, operations in parsed for [op] in operations] == [
        f"c{number}" for number in range(300)
    ]


def test_what_a_worker_sends_comes_back_equal_with_every_attribute(tmp_path: Path) -> None:
    """Value classes travel as their class and field values; an object that holds more than
    its fields (or whose class computes something when built) travels the default way."""
    path = tmp_path / "001.sql"
    path.write_text(
        "BEGIN;\nCREATE TABLE t (id bigint PRIMARY KEY, v text DEFAULT now()::text);\n"
        "ALTER TABLE t ADD COLUMN c int NOT NULL; -- bgmigrate: ignore add-column-not-null\n"
        "COMMIT;\n"
    )
    [(read, operations)] = workers._read_batch([(MigrationFile(path, "plain"), "001.sql")], False)
    assert read.unit is not None
    read.unit.statements[0].note = "not a field"  # type: ignore[attr-defined]
    [(back, back_operations)] = pickle.loads(
        pickled([(read, operations)])  # the same pickling as a worker's batch
    )
    assert back == read and back_operations == operations
    assert back.unit is not None
    assert back.unit.statements[0].note == "not a field"  # type: ignore[attr-defined]
    assert back_operations[1][0].statement is back.unit.statements[1]


def _listed(folder: Path, count: int) -> list[tuple[MigrationFile, str]]:
    listed = []
    for number in range(count):
        path = folder / f"{number:03}.sql"
        path.write_text(f"CREATE INDEX i{number} ON t ({number});\n")
        listed.append((MigrationFile(path, "plain"), path.name))
    return listed


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The process ids of the workers forked during the test."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


def _all_ended(pids: list[int]) -> bool:
    """Whether every one of these workers has ended and been waited for (no zombie left)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


def test_a_run_stopped_early_ends_its_workers(tmp_path: Path, forked: list[int]) -> None:
    """The rules stop taking files (an error in a later step): the workers, busy or waiting
    for their results to be read, are ended, and nothing waits for them."""
    parsed = workers.read_in_workers(_listed(tmp_path, 400), assume_in_transaction=False, jobs=3)
    assert next(parsed)[0].unit is not None
    assert len(forked) == 2
    parsed.close()
    assert _all_ended(forked)


def test_a_finished_run_ends_its_workers(tmp_path: Path, forked: list[int]) -> None:
    parsed = workers.read_in_workers(_listed(tmp_path, 300), assume_in_transaction=False, jobs=2)
    assert len(list(parsed)) == 300
    assert len(forked) == 1
    assert _all_ended(forked)


def test_a_worker_that_dies_ends_the_run_with_an_error(tmp_path: Path, forked: list[int]) -> None:
    """Killed from outside (out of memory): the run stops with an error, never waits."""
    import signal

    parsed = workers.read_in_workers(_listed(tmp_path, 400), assume_in_transaction=False, jobs=2)
    next(parsed)
    os.kill(forked[0], signal.SIGKILL)
    with pytest.raises(EOFError, match="worker process ended"):
        list(parsed)
    assert _all_ended(forked)


def test_where_there_is_no_fork_the_workers_are_spawned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: the workers start by `multiprocessing`'s spawn, and send the same batches."""
    import multiprocessing

    listed = _listed(tmp_path, 300)
    monkeypatch.delattr(os, "fork")
    parsed = list(workers.read_in_workers(listed, assume_in_transaction=False, jobs=2))
    assert [read.unit.path for read, _ in parsed if read.unit] == [name for _, name in listed]
    assert [operations for read, operations in parsed] == [
        parse_unit(read.unit) for read, _ in parsed if read.unit
    ]
    assert multiprocessing.active_children() == []


def test_an_error_in_a_worker_is_raised_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    """The first batch always goes to a worker (forked after the patch, so it has it)."""
    listed = _listed(tmp_path, 300)
    real_read_file = workers.read_file

    def read_file(migration: MigrationFile, path: str, **options: bool) -> ReadMigration:
        if path == "003.sql":
            raise RuntimeError(f"cannot read {path}")
        return real_read_file(migration, path, **options)

    monkeypatch.setattr(workers, "read_file", read_file)
    with pytest.raises(RuntimeError, match=r"cannot read 003\.sql"):
        list(workers.read_in_workers(listed, assume_in_transaction=False, jobs=2))
    assert _all_ended(forked)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_lets_go_of_each_file_once_read(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The discovered files are not held to the end of the run: once a file is read (and,
    with workers, its batch handed over), nothing of the run keeps its `MigrationFile`."""
    import gc
    import weakref

    from bgmigrate.check.runner import CheckOptions, _Reading
    from bgmigrate.config import Config

    monkeypatch.setattr(workers, "_BATCH", 5)
    for number in range(60):
        (tmp_path / f"{number:03}.sql").write_text(f"CREATE TABLE t{number} (id int);\n")
    options = CheckOptions(paths=(str(tmp_path),), jobs=jobs, cwd=tmp_path)
    reading = _Reading(options, Config(), tmp_path, [])
    alive = [weakref.ref(migration) for migration in reading.found.migrations]
    assert len(alive) == 60
    units = reading.units()
    for number, unit in enumerate(units):
        assert unit.path == f"{number:03}.sql"
        if jobs == 1 and number:
            gc.collect()
            assert alive[number - 1]() is None
    gc.collect()
    assert not any(ref() for ref in alive)
    assert reading.found.migrations == ()


def test_a_check_of_many_files_keeps_the_heap_steady_and_of_few_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The allocator's setting is process-wide: asked for by a run of many files only (and
    once), never by the pre-commit hook's few."""
    from bgmigrate.check import collector, runner
    from bgmigrate.config import Config

    asked = []
    monkeypatch.setattr(runner, "steady_heap", lambda: asked.append(True))
    monkeypatch.setattr(workers, "PARALLEL_FROM", 5)
    for number in range(6):
        (tmp_path / f"{number:03}.sql").write_text(f"CREATE TABLE t{number} (id int);\n")
    few = runner.CheckOptions(paths=(str(tmp_path / "000.sql"),), jobs=1, cwd=tmp_path)
    assert len(list(runner._Reading(few, Config(), tmp_path, []).units())) == 1
    assert asked == []
    many = runner.CheckOptions(paths=(str(tmp_path),), jobs=1, cwd=tmp_path)
    assert len(list(runner._Reading(many, Config(), tmp_path, []).units())) == 6
    assert asked == [True]
    collector.steady_heap()
    collector.steady_heap()  # once is enough; harmless again, and where there is no glibc


def test_the_paths_listed_for_the_workers_are_shown_as_each_alone(tmp_path: Path) -> None:
    """A folder's paths are shown from one look at the folder: as `_display` shows each."""
    from collections import deque

    from bgmigrate.check.runner import _display, _drained

    outside = tmp_path / "outside"
    (outside / "db").mkdir(parents=True)
    project = tmp_path / "project"
    (project / "db" / "sub").mkdir(parents=True)
    (project / "linked").symlink_to(outside / "db")
    written = [
        project / "db" / "1.sql",
        project / "db" / "sub" / "2.sql",
        project / "db" / ".." / "db" / "3.sql",
        project / "linked" / "4.sql",
        outside / "db" / "5.sql",
        Path("/6.sql"),
    ]
    for cwd in (project, project / "db", outside, tmp_path, Path("/")):
        listed = _drained(deque(MigrationFile(path, "plain") for path in written), cwd)
        assert [shown for _, shown in listed] == [_display(path, cwd) for path in written]
    assert [
        shown for _, shown in _drained(deque([MigrationFile(written[1], "plain")]), project)
    ] == ["db/sub/2.sql"]
