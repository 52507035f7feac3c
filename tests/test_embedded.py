"""The embedded PostgreSQL's scratch directory: in memory when asked and there is room."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bgmigrate import embedded
from bgmigrate.embedded import start_embedded_postgres

needs_memory_filesystem = pytest.mark.skipif(
    embedded._memory_filesystem() is None, reason="no memory-backed /dev/shm with room here"
)


def _data_directory(dsn: str) -> Path:
    with psycopg.connect(dsn) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    assert row is not None
    return Path(row[0])


@needs_memory_filesystem
def test_an_in_memory_server_keeps_its_data_in_dev_shm_and_deletes_it() -> None:
    with start_embedded_postgres(in_memory=True) as dsn:
        data = _data_directory(dsn)
        assert data.is_relative_to(Path("/dev/shm").resolve())
        assert (data / "PG_VERSION").is_file()
    assert not data.exists()
    assert not data.parent.exists()


def test_without_room_in_memory_the_server_goes_where_temporary_files_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedded, "_MEMORY_ROOM_NEEDED", 1 << 62)
    assert embedded._memory_filesystem() is None
