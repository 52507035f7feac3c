"""Reading and parsing in worker processes and in this one: the files come back in order."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.check import workers
from bgmigrate.check.engine import parse_unit
from bgmigrate.source.layouts.base import MigrationFile


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
