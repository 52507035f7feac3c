"""What a trace records: per statement, what PostgreSQL did to the relations that existed
before the migration; and the findings the app's own queries give."""

from __future__ import annotations

from dataclasses import field

from bgmigrate.check.finding import Finding
from bgmigrate.values import Value, frozen_value, value

__all__ = ["LOCK_STRENGTH", "RelationLock", "StatementTrace", "TraceResult", "blocked_traffic"]

LOCK_STRENGTH = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
"""PostgreSQL's table lock modes as pg_locks names them, weakest first (each conflicts with
everything the one before it conflicts with)."""

# From PostgreSQL's conflict table ("Table-Level Lock Modes"): the weakest mode that blocks
# the app's reads (SELECT takes ACCESS SHARE) and its writes (INSERT/UPDATE/DELETE take ROW
# EXCLUSIVE).
_BLOCKS_READS_FROM = LOCK_STRENGTH.index("AccessExclusiveLock")
_BLOCKS_WRITES_FROM = LOCK_STRENGTH.index("ShareLock")


def blocked_traffic(mode: str) -> str:
    """Which of the app's statements wait while `mode` is held or queued: "reads and writes",
    "writes", or "" (neither)."""
    strength = LOCK_STRENGTH.index(mode) if mode in LOCK_STRENGTH else len(LOCK_STRENGTH)
    if strength >= _BLOCKS_READS_FROM:
        return "reads and writes"
    if strength >= _BLOCKS_WRITES_FROM:
        return "writes"
    return ""


@frozen_value
class RelationLock(Value):
    """The strongest lock held on a relation that existed before the migration while a
    statement runs: taken by the statement, or earlier in its transaction block."""

    relation: str
    """Schema-qualified: `public.users`."""
    mode: str
    """As pg_locks names it: `AccessExclusiveLock`, `ShareUpdateExclusiveLock`…"""

    @property
    def blocks(self) -> str:
        return blocked_traffic(self.mode)


@value
class StatementTrace(Value):
    """What one statement of the proposed migration did, read from the server."""

    path: str
    line: int
    sql: str
    locks: tuple[RelationLock, ...] = ()
    rewritten: tuple[str, ...] = ()
    """Relations whose storage was replaced (a new relfilenode)."""
    scanned: tuple[str, ...] = ()
    """Tables read in full (a sequential scan counted by the statistics collector)."""
    duration_ms: float = 0.0
    error: str | None = None
    """PostgreSQL's error, when the statement failed (the migration stops there)."""


@value
class TraceResult(Value):
    statements: list[StatementTrace] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
