"""Running one statement of a phase: a short transaction, or autocommit for CONCURRENTLY.

A transactional statement runs with `SET LOCAL lock_timeout` and `statement_timeout`, and its
bookkeeping (the completed-step record) commits in the same transaction: either both happen or
neither. A non-transactional statement runs in autocommit with the timeouts set on the session,
and is recorded right after; it must be safe to run again after a crash. Behind a transaction
pooler, the executor runs these on a direct connection (`--direct-dsn`), where the session
settings stay with the statement they bound. For
`CREATE INDEX CONCURRENTLY` the executor checks the catalog itself: a valid index of that name
means the build finished (skip it), an invalid one was left by a failed build (drop it first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bgmigrate.execute.connection import one_line
from bgmigrate.execute.errors import ExecutionError
from bgmigrate.execute.options import ApplyOptions
from bgmigrate.execute.progress import Reporter
from bgmigrate.execute.retry import with_lock_retries
from bgmigrate.plan.model import PlanError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "RESET_TIMEOUTS",
    "ConcurrentIndex",
    "concurrent_index",
    "database_failure",
    "run_statement",
    "set_local_timeouts",
    "timeout_statements",
]


@dataclass(frozen=True)
class ConcurrentIndex:
    """The index a `CREATE INDEX CONCURRENTLY` statement builds."""

    name: str
    schema: str | None

    def qualified(self, conn: psycopg.Connection) -> str:
        from psycopg import sql

        parts = (self.schema, self.name) if self.schema else (self.name,)
        return sql.Identifier(*parts).as_string(conn)


def concurrent_index(statement: str) -> ConcurrentIndex | None:
    """The index built by `statement` when it is `CREATE INDEX CONCURRENTLY`, else None.

    PlanError when the index has no name: a retry could not find what a failed build left.
    """
    import pglast
    from pglast import ast

    try:
        parsed = pglast.parse_sql(statement)
    except pglast.parser.ParseError:
        return None  # PostgreSQL will report the syntax error with its own position
    for raw in parsed:
        node = raw.stmt
        if isinstance(node, ast.IndexStmt) and node.concurrent:
            if not node.idxname:
                raise PlanError(
                    "CREATE INDEX CONCURRENTLY needs an index name, so that a retry can find "
                    f"and drop an invalid index a failed build left: {statement}",
                    "sql",
                )
            return ConcurrentIndex(node.idxname, node.relation.schemaname)
    return None


def timeout_statements(options: ApplyOptions, *, local: bool) -> list[str]:
    """The SET statements that bound lock waits and statement time, for the current
    transaction (`local`) or the session."""
    scope = "SET LOCAL" if local else "SET"
    return [
        f"{scope} lock_timeout = '{options.lock_timeout_setting}'",
        f"{scope} statement_timeout = '{options.statement_timeout_setting}'",
    ]


RESET_TIMEOUTS = ("RESET lock_timeout", "RESET statement_timeout")


def set_local_timeouts(conn: psycopg.Connection, options: ApplyOptions) -> None:
    """Timeouts for the current transaction only."""
    for statement in timeout_statements(options, local=True):
        conn.execute(statement)


def database_failure(what: str, error: Exception) -> ExecutionError:
    """An ExecutionError for a statement the database refused, with a hint when there is one."""
    from psycopg import errors

    message = one_line(str(error))
    if isinstance(error, errors.QueryCanceled) and "statement timeout" in message:
        message += " (raise --statement-timeout if the statement is expected to take that long)"
    return ExecutionError(f"{what} failed: {message}. The phase is resumable once this is fixed")


def run_statement(
    conn: psycopg.Connection,
    statement: str,
    *,
    transactional: bool,
    what: str,
    options: ApplyOptions,
    reporter: Reporter,
    bookkeeping: Callable[[], None],
) -> None:
    """Run `statement` with short locks and retries, then `bookkeeping` (in the same
    transaction when `transactional`). Raises ExecutionError on failure."""
    import psycopg

    index = None if transactional else concurrent_index(statement)

    def in_transaction() -> None:
        with conn.transaction():
            set_local_timeouts(conn, options)
            conn.execute(statement)
            bookkeeping()

    def in_autocommit() -> None:
        for setting in timeout_statements(options, local=False):
            conn.execute(setting)
        try:
            if index is not None and _index_already_built(conn, index, reporter):
                reporter.message(f"{what}: index {index.name} already exists and is valid")
                return
            conn.execute(statement)
        finally:
            if not conn.broken:
                for reset in RESET_TIMEOUTS:
                    conn.execute(reset)

    def notify(text: str) -> None:
        reporter.message(text, event="retry")

    try:
        with_lock_retries(
            in_transaction if transactional else in_autocommit,
            what=what,
            options=options,
            on_retry=notify,
        )
        if not transactional:
            bookkeeping()
    except psycopg.Error as error:
        raise database_failure(what, error) from None


def _index_already_built(
    conn: psycopg.Connection, index: ConcurrentIndex, reporter: Reporter
) -> bool:
    """True when a valid index of that name exists; drops an invalid one and returns False."""
    from psycopg import sql

    qualified = index.qualified(conn)
    row = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [qualified]
    ).fetchone()
    if row is None:
        return False
    if row[0]:
        return True
    reporter.message(
        f"dropping invalid index {qualified} left by an earlier failed build before retrying",
        event="invalid-index",
    )
    parts = (index.schema, index.name) if index.schema else (index.name,)
    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(*parts)))
    return False
