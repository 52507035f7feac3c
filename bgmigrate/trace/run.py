"""Run a proposed migration on a throwaway copy of the schema, statement by statement as the
migration tool would, and read from PostgreSQL what each statement did.

Transactions follow the statements' own blocks (`Statement.transaction`: an explicit BEGIN,
the runner wrapping a unit, Alembic's transaction per migration). A statement the tool runs in
autocommit runs here in a transaction of its own, which takes the same locks and lets the
trace read them from pg_locks before COMMIT releases them. Only a statement PostgreSQL refuses
inside a transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM`…) runs in real autocommit;
its locks are then watched from a second session, while a third holds a snapshot and an ACCESS
SHARE lock on every pre-existing table, so that the statement's waits (for older snapshots,
for other lockers) happen while the watcher is looking, and end as soon as it has looked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bgmigrate.check.finding import Category, Finding, Severity
from bgmigrate.source.unit import Location, Statement, Unit
from bgmigrate.trace.model import StatementTrace, TraceResult
from bgmigrate.trace.observe import Relations
from bgmigrate.trace.queries import AppQuery, QueryRunner

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "NEW_QUERY_FAILS",
    "OLD_QUERY_FAILS",
    "trace_in_session",
    "trace_migration",
    "trace_on",
]

OLD_QUERY_FAILS = "old-version-query-fails"
NEW_QUERY_FAILS = "new-version-query-fails"
_ACTIVE_SQL_TRANSACTION = "25001"
"""SQLSTATE of "… cannot run inside a transaction block"."""
_POLL_SECONDS = 0.002


def trace_migration(
    units: Iterable[Unit],
    schema_from: Sequence[Path],
    *,
    server_dsn: str | None = None,
    old_queries: Sequence[AppQuery] = (),
    new_queries: Sequence[AppQuery] = (),
    config_file: Path | None = None,
) -> TraceResult:
    """Replay `schema_from` into a new database (on an embedded PostgreSQL, or on
    `server_dsn`'s server, dropped afterwards; directories read with `config_file`) and trace
    `units` on it."""
    from bgmigrate.plan.replay import replayed_database

    with replayed_database(schema_from, server_dsn=server_dsn, config_file=config_file) as dsn:
        return trace_on(dsn, units, old_queries=old_queries, new_queries=new_queries)


def trace_on(
    dsn: str,
    units: Iterable[Unit],
    *,
    old_queries: Sequence[AppQuery] = (),
    new_queries: Sequence[AppQuery] = (),
) -> TraceResult:
    """Trace `units` on the database at `dsn`, which they change: a scratch database only."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        return trace_in_session(
            connection, dsn, units, old_queries=old_queries, new_queries=new_queries
        )


def trace_in_session(
    connection: psycopg.Connection,
    dsn: str,
    units: Iterable[Unit],
    *,
    old_queries: Sequence[AppQuery] = (),
    new_queries: Sequence[AppQuery] = (),
) -> TraceResult:
    """Trace `units` in the session of `connection` (autocommit, idle, on the scratch
    database at `dsn`), which keeps its settings and temporary tables: the relations that
    exist when the call starts are the existing ones."""
    result = TraceResult()
    tracer = _Tracer(connection, dsn, old_queries)
    if _trace_units(tracer, units, result):
        result.findings.extend(tracer.failing_new_queries(new_queries))
    return result


def _trace_units(tracer: _Tracer, units: Iterable[Unit], result: TraceResult) -> bool:
    """Trace every statement in order; False when one failed (the tool would stop there)."""
    for unit in units:
        tracer.path = unit.path
        for statement in unit.statements:
            trace = tracer.run(statement)
            result.statements.append(trace)
            result.findings.extend(tracer.broken_queries(statement))
            if trace.error is not None:
                return False
        # A runner commits the transaction it wrapped around the unit when the unit ends.
        tracer.finish()
    return True


class _Tracer:
    def __init__(self, connection: psycopg.Connection, dsn: str, queries: Sequence[AppQuery]):
        self._connection = connection
        self._dsn = dsn
        self._pid = connection.info.backend_pid
        self.path = ""
        """The unit being traced, as `check` names it (relative to the working directory)."""
        self._relations = Relations(connection)
        self._block: int | None = None
        self._queries = QueryRunner(connection)
        self._working = [q for q in queries if self._works(q)]

    def run(self, statement: Statement) -> StatementTrace:
        from psycopg import pq

        status = self._connection.pgconn.transaction_status
        if status == pq.TransactionStatus.INTRANS and statement.transaction != self._block:
            self._execute("COMMIT")
        self._block = statement.transaction
        if statement.transaction is None:
            return self._own_transaction(statement)
        idle = self._connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
        if idle and not _opens_transaction(statement):
            self._execute("BEGIN")
        return self._observed(statement)

    def finish(self) -> None:
        """Commit the block a runner wrapped around the unit, as it would at its end."""
        from psycopg import pq

        if self._connection.pgconn.transaction_status == pq.TransactionStatus.INTRANS:
            self._execute("COMMIT")
        self._block = None

    def broken_queries(self, statement: Statement) -> list[Finding]:
        """The old version's queries that worked until `statement` and fail after it."""
        from psycopg import pq

        if self._connection.pgconn.transaction_status == pq.TransactionStatus.INERROR:
            return []
        findings = []
        for query in list(self._working):
            error = self._queries.run(query)
            if error is None:
                continue
            self._working.remove(query)
            findings.append(
                _finding(
                    OLD_QUERY_FAILS,
                    self.path,
                    statement.location,
                    statement.sql,
                    f"After this statement the old version's query `{query.label}` "
                    f"({query.path}:{query.line}) fails: {error}. It worked before, so the "
                    "version still running (blue) breaks as soon as this runs.",
                    "Keep what the old version reads and writes until it is gone: add the new "
                    "shape beside the old one now, remove the old one after the switch "
                    "(`bgmigrate plan` writes these phases).",
                )
            )
        return findings

    def failing_new_queries(self, queries: Sequence[AppQuery]) -> list[Finding]:
        """The new version's queries that fail once the whole migration has run."""
        findings = []
        for query in queries:
            error = self._queries.bind(query) or self._queries.run(query)
            if error is None:
                continue
            location = Location(query.line, 1, query.line, 1)
            findings.append(
                _finding(
                    NEW_QUERY_FAILS,
                    query.path,
                    location,
                    query.sql,
                    f"After the migration the new version's query `{query.label}` fails: "
                    f"{error}. The new version (green) breaks as soon as it serves traffic.",
                    "Make the migration create what the query needs, or fix the query.",
                )
            )
        return findings

    def _works(self, query: AppQuery) -> bool:
        return self._queries.bind(query) is None and self._queries.run(query) is None

    def _own_transaction(self, statement: Statement) -> StatementTrace:
        self._execute("BEGIN")
        trace = self._observed(statement)
        if trace.error is None:
            error = self._try("COMMIT")
            return trace if error is None else _failed(trace, error)
        self._execute("ROLLBACK")
        if trace.error.startswith(_ACTIVE_SQL_TRANSACTION):
            return self._autocommit(statement)
        return trace

    def _observed(self, statement: Statement) -> StatementTrace:
        """Run `statement` in the open transaction and read, before the transaction ends, the
        locks held on existing relations, and what it rewrote and scanned."""
        from psycopg import pq

        connection, relations = self._connection, self._relations
        nodes = relations.filenodes(connection)
        scans = relations.scans(connection, in_transaction=True)
        started = time.perf_counter()
        error = self._try(statement.sql)
        duration = (time.perf_counter() - started) * 1000
        trace = _trace(self.path, statement, duration, error)
        still_open = connection.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        if error is not None or not still_open:
            return trace
        return StatementTrace(
            trace.path,
            trace.line,
            trace.sql,
            # What blocks the app while it runs: its own locks and those its block already
            # holds (they all last until COMMIT).
            locks=relations.locks(relations.held_locks(connection, self._pid)),
            rewritten=relations.changed(nodes, relations.filenodes(connection)),
            scanned=relations.scanned(scans, relations.scans(connection, in_transaction=True)),
            duration_ms=duration,
        )

    def _autocommit(self, statement: Statement) -> StatementTrace:
        """Run a statement PostgreSQL refuses in a transaction block, watched from outside."""
        import psycopg

        relations = self._relations
        nodes = relations.filenodes(self._connection)
        scans = self._flushed_scans()
        with (
            psycopg.connect(self._dsn, autocommit=True) as watcher,
            psycopg.connect(self._dsn, autocommit=True) as holder,
        ):
            _hold_snapshot_and_tables(holder, relations.tables)
            watch = _Watch(watcher, holder, relations, self._pid)
            thread = threading.Thread(target=watch.loop, daemon=True)
            thread.start()
            started = time.perf_counter()
            try:
                error = self._try(statement.sql)
            finally:
                watch.done.set()
                thread.join()
            duration = (time.perf_counter() - started) * 1000
        trace = _trace(self.path, statement, duration, error)
        if error is not None:
            return trace
        return StatementTrace(
            trace.path,
            trace.line,
            trace.sql,
            locks=relations.locks(watch.seen),
            rewritten=relations.changed(nodes, relations.filenodes(self._connection)),
            scanned=relations.scanned(scans, self._flushed_scans()),
            duration_ms=duration,
        )

    def _flushed_scans(self) -> dict[int, int]:
        # The backend flushes its pending statistics when it goes idle after this call.
        self._connection.execute("SELECT pg_stat_force_next_flush()")
        return self._relations.scans(self._connection, in_transaction=False)

    def _execute(self, sql: str) -> None:
        self._connection.execute(sql.encode())  # type: ignore[arg-type]

    def _try(self, sql: str) -> str | None:
        """Run `sql`; None on success, else "SQLSTATE message" from PostgreSQL."""
        import psycopg

        try:
            self._connection.execute(sql.encode())  # type: ignore[arg-type]
        except psycopg.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "failed"
            return f"{error.sqlstate or ''} {first}".strip()
        return None


class _Watch:
    """Polls pg_locks for the traced backend until told to stop; lets its waits end."""

    def __init__(
        self,
        watcher: psycopg.Connection,
        holder: psycopg.Connection,
        relations: Relations,
        pid: int,
    ) -> None:
        self.done = threading.Event()
        self.seen: set[tuple[int, str]] = set()
        self._watcher, self._holder = watcher, holder
        self._relations, self._pid = relations, pid

    def loop(self) -> None:
        while not self.done.is_set():
            self.seen |= self._relations.held_locks(self._watcher, self._pid)
            if not self._holder.closed and self._waiting():
                # While it waits its locks stand still: read them, then let it go on (its
                # later locks are polled as it runs).
                self.seen |= self._relations.held_locks(self._watcher, self._pid)
                self._holder.close()
            time.sleep(_POLL_SECONDS)

    def _waiting(self) -> bool:
        row = self._watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (self._pid,)
        ).fetchone()
        return row is not None and row[0] == "Lock"


def _hold_snapshot_and_tables(
    holder: psycopg.Connection, tables: Sequence[tuple[str, str]]
) -> None:
    from psycopg import sql

    holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    holder.execute("SELECT 1")
    if tables:
        names = sql.SQL(", ").join(sql.Identifier(schema, name) for schema, name in tables)
        holder.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(names))


def _opens_transaction(statement: Statement) -> bool:
    from bgmigrate.parse.operations import Transaction, TransactionAction
    from bgmigrate.parse.postgres import parse_statement

    return any(
        isinstance(op, Transaction) and op.action is TransactionAction.BEGIN
        for op in parse_statement(statement)
    )


def _trace(path: str, statement: Statement, duration: float, error: str | None) -> StatementTrace:
    return StatementTrace(
        path, statement.location.line, statement.sql, duration_ms=duration, error=error
    )


def _failed(trace: StatementTrace, error: str) -> StatementTrace:
    return StatementTrace(
        trace.path,
        trace.line,
        trace.sql,
        trace.locks,
        trace.rewritten,
        trace.scanned,
        trace.duration_ms,
        error,
    )


def _finding(
    rule: str, path: str, location: Location, statement: str, message: str, safe: str
) -> Finding:
    return Finding(rule, Category.COMPAT, Severity.ERROR, path, location, statement, message, safe)
