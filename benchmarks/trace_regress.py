"""The regression corpus part of `trace_agreement.py`: PostgreSQL's own regression SQL (the
corpus of `regress.py`), traced where the lock, rewrite and compatibility rules judge it.

Method. Each regression file runs in a new database, in one session, statement by statement in
the file's order, as psql runs it: an error does not stop the file, and what the parser
rejects (psql meta-commands, deliberate syntax errors) is not sent. A statement is *judged*
when it is outside the file's transaction blocks and one of its operations is of a type that a
lock, rewrite or compatibility rule visits (ALTER TABLE's actions, CREATE and DROP INDEX,
constraints, type changes, renames, drops, TRUNCATE, rewrites…; `require-lock-timeout`, which
visits every statement, does not select one). A judged statement is traced alone, in a
transaction of its own, by `bgmigrate trace`'s machinery in that same session (its settings
and search_path kept), where every relation the file created before it counts as existing;
the old version's queries are generated for the tables it names. The checker sees the file
the same way: each statement PostgreSQL accepted is a unit of its own, checked after the
file's earlier accepted statements as context, so a table the file created earlier is an
existing table to both, and a type change PostgreSQL refused does not change the column's
type the checker knows. Verdicts are compared as for the rule examples
(`trace_agreement.compare`).

Not judged, and counted: statements PostgreSQL refuses (the regression tests expect many
errors), statements whose IF [NOT] EXISTS made PostgreSQL skip them (its notice says so: the
checker, which cannot know what production has, judges them as if they ran), a REINDEX that
PostgreSQL ran table by table in transactions of its own (SCHEMA, or a partitioned table or
index) and whose locks, each over in a moment on the corpus's tiny tables, the trace's watcher
did not see, and statements on temporary or system relations (pg_catalog, pg_toast, and
tables moved there: no app waits for them, and the trace watches neither). Statements that
change the cluster rather than the database (ALTER SYSTEM, databases, tablespaces,
subscriptions) and COPY (its data comes through psql) are not sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from trace_agreement import (
    CATEGORIES,
    SERVER_MAJOR,
    Outcome,
    ScratchDatabase,
    compare,
    old_version_queries,
    try_statement,
)

from bgmigrate.check.engine import CheckSettings, check_units
from bgmigrate.check.finding import Finding
from bgmigrate.parse.operations import Name, Operation, Reindex, SyntaxErrorOp, Unknown
from bgmigrate.parse.postgres import parse_statement
from bgmigrate.rules import CATALOG
from bgmigrate.source import read_sql_unit
from bgmigrate.source.reading import read_source_text
from bgmigrate.source.unit import Statement, Unit
from bgmigrate.trace import TraceResult, trace_in_session

STATEMENT_TIMEOUT_MS = 10_000
"""A statement of the corpus that runs longer (a sleep, a lock wait) is cancelled."""
_NOT_SENT = {
    "AlterSystemStmt",
    "CreatedbStmt",
    "DropdbStmt",
    "AlterDatabaseStmt",
    "AlterDatabaseSetStmt",
    "AlterDatabaseRefreshCollStmt",
    "CreateTableSpaceStmt",
    "DropTableSpaceStmt",
    "AlterTableSpaceOptionsStmt",
    "LoadStmt",
    "CreateSubscriptionStmt",
    "AlterSubscriptionStmt",
    "CopyStmt",
}
"""Statements not sent: those that would change the server the whole corpus shares rather
than the file's database (a subscription also keeps its database from being dropped), and
COPY (its data comes through psql, or from files the corpus does not have)."""
_JUDGED = tuple(
    {
        kind
        for rule in CATALOG.values()
        if rule.category in CATEGORIES
        for kind in rule.visits
        if kind is not Operation
    }
)


@dataclass
class CorpusTally:
    files: int = 0
    statements: int = 0
    judged: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0


def trace_corpus(server: str, files: list[Path]) -> CorpusTally:
    tally = CorpusTally()
    for path in files:
        tally.files += 1
        text = read_source_text(path).text
        statements = read_sql_unit(path.name, text).statements
        tally.statements += len(statements)
        with ScratchDatabase(server) as dsn:
            _trace_file(_with_timeout(dsn), path.stem, statements, tally)
    return tally


def _with_timeout(dsn: str) -> str:
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={STATEMENT_TIMEOUT_MS}"
    return make_conninfo(**{**conninfo_to_dict(dsn), "options": options})


def _trace_file(dsn: str, stem: str, statements: list[Statement], tally: CorpusTally) -> None:
    """Run the file, tracing its judged statements; then check the statements PostgreSQL
    accepted, each a unit after the ones before it, and compare."""
    accepted: list[Unit] = []
    traces: dict[str, TraceResult] = {}
    with psycopg.connect(dsn, autocommit=True) as connection:
        notices: list[str] = []
        connection.add_notice_handler(lambda notice: notices.append(notice.message_primary))
        for statement in statements:
            unit = read_sql_unit(f"{stem}:{statement.location.line}", statement.sql)
            operations = list(parse_statement(statement))
            if any(isinstance(op, SyntaxErrorOp) for op in operations) or any(
                isinstance(op, Unknown) and op.node in _NOT_SENT for op in operations
            ):
                continue
            if statement.transaction is not None or not any(
                isinstance(op, _JUDGED) for op in operations
            ):
                if try_statement(connection, statement.sql):
                    accepted.append(unit)
                continue
            _close_dangling_transaction(connection)
            named = list(_tables(operations))
            if _unwatched(connection, named):
                tally.left_out["on a temporary or system relation"] += 1
                if try_statement(connection, statement.sql):
                    accepted.append(unit)
                continue
            tally.judged += 1
            queries = old_version_queries(connection, named)
            notices.clear()
            traced = trace_in_session(connection, dsn, [unit], old_queries=queries)
            error = traced.statements[-1].error if traced.statements else None
            if error is not None:
                tally.left_out["refused by PostgreSQL (as the test expects, mostly)"] += 1
                continue
            accepted.append(unit)
            if any(notice.endswith(", skipping") for notice in notices):
                tally.left_out["IF [NOT] EXISTS: PostgreSQL skipped it"] += 1
                continue
            reindex = any(isinstance(op, Reindex) for op in operations)
            if reindex and not traced.statements[-1].locks:
                tally.left_out["REINDEX table by table, outside a block: no lock seen"] += 1
                continue
            traces[unit.path] = traced
    settings = CheckSettings(pg_version=SERVER_MAJOR, rules=tuple(CATALOG.values()))
    findings: dict[str, list[Finding]] = {}
    for finding in check_units(accepted, settings).findings:
        if CATALOG[finding.rule].category in CATEGORIES:
            findings.setdefault(finding.path, []).append(finding)
    tally.outcomes += [
        compare(path, None, findings.get(path, []), traced, must_flag=False)
        for path, traced in traces.items()
    ]


def _tables(operations: list[Operation]) -> Iterator[Name]:
    for op in operations:
        for attribute in ("table", "name", "references", "partition", "partition_of"):
            name = getattr(op, attribute, None)
            if isinstance(name, Name):
                yield name
        yield from getattr(op, "tables", ())
        yield from getattr(op, "names", ())  # DROP INDEX's indexes


def _unwatched(connection: psycopg.Connection, names: list[Name]) -> bool:
    """True when one of the relations is temporary or a system one (pg_catalog, pg_toast),
    where the trace does not look (and no app waits)."""
    row = connection.execute(
        "SELECT bool_or(c.relpersistence = 't' OR c.relnamespace IN ('pg_catalog'::regnamespace,"
        " 'pg_toast'::regnamespace)) "
        "FROM unnest(%s::text[]) AS n JOIN pg_class c ON c.oid = to_regclass(n)",
        ([str(name) for name in names],),
    ).fetchone()
    return bool(row and row[0])


def _close_dangling_transaction(connection: psycopg.Connection) -> None:
    """A file's block left open by an error (psql would keep it): a judged statement runs
    outside it, so it ends here."""
    from psycopg import pq

    if connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        connection.execute(b"ROLLBACK")
