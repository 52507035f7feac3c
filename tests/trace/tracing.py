"""Helpers of the trace tests: a history replayed into a fresh database, then one migration
traced on it."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.plan.replay import replay_files
from bgmigrate.source import read_sql_unit
from bgmigrate.trace import AppQuery, StatementTrace, TraceResult, trace_on

HISTORY = """
CREATE TABLE users (id bigint PRIMARY KEY, email text, n integer, v varchar(100));
INSERT INTO users SELECT g, 'u' || g || '@example.com', g, 'x' FROM generate_series(1, 50) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);
INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g;
"""


def trace(
    dsn: str,
    tmp_path: Path,
    migration: str,
    *,
    history: str = HISTORY,
    old: tuple[str, ...] = (),
    new: tuple[str, ...] = (),
    assume_in_transaction: bool = False,
) -> TraceResult:
    file = tmp_path / "history.sql"
    file.write_text(history)
    replay_files([file], dsn)
    unit = read_sql_unit("m.sql", migration, assume_in_transaction=assume_in_transaction)
    return trace_on(
        dsn,
        [unit],
        old_queries=[AppQuery(sql, "old.sql", i + 1) for i, sql in enumerate(old)],
        new_queries=[AppQuery(sql, "new.sql", i + 1) for i, sql in enumerate(new)],
    )


def only(result: TraceResult) -> StatementTrace:
    assert [t.error for t in result.statements] == [None] * len(result.statements)
    return result.statements[-1]


def table_locks(trace: StatementTrace) -> dict[str, str]:
    return {lock.relation: lock.mode for lock in trace.locks if not lock.relation.endswith("key")}
