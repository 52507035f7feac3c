"""One executor per plan: a session advisory lock keyed on the plan id.

The lock lives as long as the executor's session, so a killed executor frees it at once. A
second executor does not wait: it stops and names the session holding the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bgmigrate.execute.errors import ExecutorBusy
from bgmigrate.execute.state import advisory_key

if TYPE_CHECKING:
    import psycopg

__all__ = ["Session", "lock_holder", "plan_lock"]


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
def plan_lock(conn: psycopg.Connection, plan_id: str) -> Iterator[None]:
    """Hold the executor lock of `plan_id` for the block; ExecutorBusy if another has it."""
    key = advisory_key(f"plan:{plan_id}")
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
    if not (row and row[0]):
        holder = lock_holder(conn, plan_id)
        who = holder.describe() if holder else "a session that has just ended"
        raise ExecutorBusy(
            f"another executor is working on plan {plan_id}: {who}. Wait for it to finish "
            "(bgmigrate status shows its progress), or end that session if it is stuck"
        )
    try:
        yield
    finally:
        if not (conn.closed or conn.broken):
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])
