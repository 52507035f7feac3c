"""truncate-table: TRUNCATE in a migration deletes production data under an exclusive lock."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Truncate


def check(op: Truncate, ctx: Context) -> Iterator[Violation]:
    existing = [table for table in op.tables if not ctx.is_new_table(table)]
    if not existing:
        return
    names = ", ".join(map(str, existing))
    cascade = (
        " CASCADE also empties every table whose foreign keys reference it." if op.cascade else ""
    )
    yield Violation(
        message=(
            f"TRUNCATE deletes every row of {names} under an ACCESS EXCLUSIVE lock: the version "
            f"still running (blue) loses the data it serves, and its reads and writes of {names} "
            f"wait for the lock.{cascade}"
        ),
        safe_alternative=(
            f"If the rows of {names} must go, delete them in small batches from a job outside "
            "the migration (each batch its own transaction); if the table is obsolete, stop "
            "using it and drop it in a unit tagged `-- bgmigrate: phase=contract`."
        ),
    )


RULE = Rule(
    name="truncate-table",
    category=Category.DATA,
    severity=Severity.ERROR,
    summary="TRUNCATE deletes production data and blocks the table while it does.",
    why="""\
`TRUNCATE` takes an ACCESS EXCLUSIVE lock and swaps in a new, empty file for the table and its
indexes (measured: new `relfilenode`). In a migration it deletes data the version still running
(blue) serves, and blocks all of its reads and writes of the table until the migration commits.
`TRUNCATE … CASCADE` also empties every table that references it (measured: the child was
truncated too), after which the old version's INSERTs referencing the parent fail with foreign
key violations. Tables created in the same unit are exempt.""",
    safe_alternative="""\
Do not truncate in an online migration.

- To delete rows, run batched deletes from a job outside the migration, one short transaction
  per batch:
  `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id LIMIT 1000);`
  repeated until it deletes nothing;
- to retire the table, stop using it, then drop it in a contract unit
  (`bgmigrate plan drop audit_log`).""",
    visits=(Truncate,),
    check=check,
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nTRUNCATE audit_log;",
            before="CREATE TABLE audit_log (id bigint PRIMARY KEY, entry text);",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nTRUNCATE TABLE users CASCADE;",
            line=3,
            note="A contract unit does not make deleting production data safe.",
        ),
        Example(
            sql="CREATE TABLE staging (id int);\nTRUNCATE staging, sessions;",
            note="One of the two tables is new, the other is not.",
        ),
    ),
    passing=(
        Example(
            sql="CREATE TABLE import_batch (id bigint PRIMARY KEY, payload jsonb);\n"
            "TRUNCATE import_batch;",
            note="A table created in the same unit holds nobody's data.",
        ),
        Example(
            sql="CREATE TABLE staging (id int);\nCREATE TABLE staging_errors (id int);\n"
            "TRUNCATE staging, staging_errors RESTART IDENTITY;",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nDROP TABLE audit_log;",
            note="Retiring the table is a drop in a contract unit.",
        ),
    ),
)
