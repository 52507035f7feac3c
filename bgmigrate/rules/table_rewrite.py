"""table-rewrite: VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED and SET TABLESPACE copy the whole
table while holding a lock that blocks every query on it."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Name, TableRewrite
from bgmigrate.rules.recipes import lines, qualified

_WHOLE_DATABASE = {
    "VACUUM FULL": "every table of the database",
    "CLUSTER": "every table of the database that was clustered before",
}
"""What the statement rewrites when it names no table."""


def check(op: TableRewrite, ctx: Context) -> Iterator[Violation]:
    if op.table is None:
        yield Violation(
            message=(
                f"{op.how} without a table name rewrites {_WHOLE_DATABASE[op.how]}, one after "
                "another, each with its indexes and under an ACCESS EXCLUSIVE lock: all reads "
                "and writes to each table, from both app versions, are blocked while it is "
                "rewritten."
            ),
            safe_alternative=lines(
                "pg_repack --dbname=DATABASE",
                "-- from a shell, outside the migration: repacks every table online (clustered "
                "tables keep their order), locking each only for its final swap",
            ),
        )
        return
    if ctx.is_new_table(op.table):
        return
    yield Violation(
        message=(
            f"{op.how} rewrites {op.table} and all its indexes under an ACCESS EXCLUSIVE lock: "
            f"all reads and writes to {op.table}, from both app versions, are blocked for the "
            "whole rewrite."
        ),
        safe_alternative=_instead(op.how, op.table),
    )


def _instead(how: str, table: Name) -> str:
    name = qualified(table)
    if how in ("VACUUM FULL", "CLUSTER"):
        order = " (it keeps the order of the clustered index)" if how == "CLUSTER" else ""
        return lines(
            f"pg_repack --table={name}",
            f"-- from a shell, outside the migration: rebuilds the table online{order} and "
            "holds ACCESS EXCLUSIVE only for the final swap; or, to make dead space reusable "
            "without a rewrite:",
            f"VACUUM {name};",
        )
    if how == "SET TABLESPACE":
        return lines(
            f"pg_repack --table={name} --tablespace=NEW_TABLESPACE --moveidx",
            "-- from a shell, outside the migration: moves the table and its indexes online, "
            "locking only for the final swap",
        )
    if how == "SET EXPRESSION":
        return (
            f"-- no online form: add a plain column to {name}, keep it up to date with a trigger, "
            "fill it in batches, and switch the app to it; or run the statement in a "
            "maintenance window"
        )
    wanted = {"SET UNLOGGED": "an UNLOGGED", "SET LOGGED": "a logged"}.get(how, "a new")
    return (
        f"-- no online form: create {wanted} copy of {name}, fill it in batches while a trigger "
        "syncs new writes, and switch the app to it; or run the statement in a maintenance "
        "window"
    )


RULE = Rule(
    name="table-rewrite",
    category=Category.REWRITE,
    severity=Severity.ERROR,
    summary="VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED and SET TABLESPACE rewrite the table under an exclusive lock.",
    why="""\
These statements write a new copy of the table and of all its indexes (a new relfilenode,
measured) while holding ACCESS EXCLUSIVE on it: every SELECT, INSERT, UPDATE and DELETE of
both app versions waits until the copy is done, which takes as long as writing the whole table
(VACUUM FULL: about 10 s for 1.5 M rows, measured). `SET LOGGED` also writes the whole table
to the WAL. `SET ACCESS METHOD` and, for a stored generated column, `SET EXPRESSION`
(PostgreSQL 17+) rewrite the same way. Without a table name, `VACUUM FULL` rewrites every
table of the database and `CLUSTER` every table clustered before. Tables created earlier in
the same migration are empty and used by nobody: they are not reported.""",
    safe_alternative="""\
- `VACUUM FULL users` / `CLUSTER users`: run `pg_repack --table=users` (or pg_squeeze)
  outside the migration; it rebuilds the table online and locks only for the final swap.
  Plain `VACUUM users;` makes dead space reusable with no rewrite.
- `SET TABLESPACE`: `pg_repack --table=users --tablespace=fast_ssd --moveidx`.
- `SET LOGGED` / `SET UNLOGGED`: no online form; copy into a new table in batches with a sync
  trigger and switch over, or schedule a maintenance window.""",
    visits=(TableRewrite,),
    check=check,
    lengthens_lock=True,
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nVACUUM FULL users;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(sql="SET lock_timeout = '2s';\nCLUSTER users USING users_pkey;"),
        Example(sql="SET lock_timeout = '2s';\nALTER TABLE events SET UNLOGGED;"),
        Example(sql="SET lock_timeout = '2s';\nALTER TABLE events SET LOGGED;"),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE public.events SET TABLESPACE fast_ssd;",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN total_cents SET EXPRESSION AS (total * 100);",
            note="Changing a stored generated column's expression recomputes every row (PostgreSQL 17+).",
        ),
        Example(
            sql="VACUUM FULL;",
            note="Without a table name, every table of the database is rewritten.",
        ),
    ),
    passing=(
        Example(sql="VACUUM users;", note="Plain VACUUM does not rewrite and blocks nobody."),
        Example(sql="VACUUM (ANALYZE) users;"),
        Example(
            sql="CREATE TABLE staging_events (id bigint PRIMARY KEY, payload jsonb);\n"
            "ALTER TABLE staging_events SET UNLOGGED;",
            note="A table created in the same migration is empty and used by nobody.",
        ),
    ),
)
