"""One executor per plan: a transaction-level advisory lock keyed on the plan id, held by an
open transaction on a connection of its own.

Not a session lock: behind PgBouncer in transaction pooling mode a session lock stays on a
server connection that the pooler hands to the next client's transaction, for which it is
re-entrant, so a second executor would pass. An open transaction pins its server connection to
its client, and its locks to it. The transaction writes nothing and holds no snapshot between
its statements, so it holds back neither vacuum nor `CREATE INDEX CONCURRENTLY`; a keep-alive
query every few seconds keeps idle-in-transaction timeouts off it. A killed executor frees the
lock at once: its server session ends, or the pooler closes the server connection its client
left inside a transaction. A second executor does not wait: it stops and names the session
holding the lock. When the lock's connection breaks (the server or the pooler ended it), the
executor is asked to stop after its current step or batch.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bgmigrate.execute.connection import connect, one_line
from bgmigrate.execute.errors import ExecutorBusy
from bgmigrate.execute.progress import Reporter
from bgmigrate.execute.state import advisory_key

if TYPE_CHECKING:
    import psycopg

__all__ = ["KEEP_ALIVE_SECONDS", "Session", "lock_holder", "plan_lock"]

KEEP_ALIVE_SECONDS = 5.0


@dataclass(frozen=True)
class Session:
    """A database session as `pg_stat_activity` shows it (columns other roles may not see are
    None)."""

    pid: int
    application_name: str
    client_addr: str | None
    backend_start: datetime | None
    state: str | None

    def describe(self) -> str:
        client = self.client_addr or "a local socket"
        name = self.application_name or "(no application_name)"
        since = (
            f", connected since {self.backend_start:%Y-%m-%d %H:%M:%S %Z}"
            if self.backend_start
            else ""
        )
        return f"pid {self.pid}, application_name {name!r}, from {client}{since}"


def _halves(key: int) -> tuple[int, int]:
    # pg_locks shows a bigint advisory key as classid (high half) and objid (low half).
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def lock_holder(conn: psycopg.Connection, plan_id: str) -> Session | None:
    """The session holding the executor lock of `plan_id` in this database, if any."""
    classid, objid = _halves(advisory_key(f"plan:{plan_id}"))
    row = conn.execute(
        "SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start, a.state"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        [classid, objid],
    ).fetchone()
    return Session(*row) if row else None


@contextmanager
def plan_lock(
    dsn: str | None,
    plan_id: str,
    *,
    application_name: str,
    reporter: Reporter,
    stop: threading.Event,
) -> Iterator[None]:
    """Hold the executor lock of `plan_id` for the block; ExecutorBusy if another has it.

    `stop` is set when the lock is lost during the block."""
    import psycopg

    key = advisory_key(f"plan:{plan_id}")
    conn = connect(dsn, application_name=application_name)
    with conn:
        conn.autocommit = False
        # The simple query protocol (a client-side cursor): an extended-protocol portal stays
        # open until the next statement, and with it a snapshot that CONCURRENTLY waits for.
        cursor = psycopg.ClientCursor(conn)
        row = cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key]).fetchone()
        if not (row and row[0]):
            holder = lock_holder(conn, plan_id)
            who = holder.describe() if holder else "a session that has just ended"
            raise ExecutorBusy(
                f"another executor is working on plan {plan_id}: {who}. Wait for it to finish "
                "(bgmigrate status shows its progress), or end that session if it is stuck"
            )
        released = threading.Event()

        def keep_alive() -> None:
            while not released.wait(KEEP_ALIVE_SECONDS):
                try:
                    cursor.execute("SELECT 1")
                except psycopg.Error as error:
                    if not released.is_set():
                        reporter.message(
                            f"lost the executor lock of plan {plan_id} ({one_line(str(error))}): "
                            "stopping after the current step or batch; run the same command "
                            "again to resume",
                            event="lock-lost",
                        )
                        stop.set()
                    return

        thread = threading.Thread(target=keep_alive, name=f"lock {plan_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            released.set()
            thread.join()
            # Ending the transaction frees the lock; a connection already gone freed it too.
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
