"""require-lock-timeout: a blocking lock requested with no lock_timeout can stall the whole app."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.locks import TableLock, table_locks
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import DropIndex, Operation, Reindex
from bgmigrate.rules.recipes import lines

NAME = "require-lock-timeout"
RUNNER_HINT = (
    "If your runner sets lock_timeout itself (the connection's options=-c lock_timeout=…, "
    "the migration tool's config, `bgmigrate apply`), declare it once: "
    "`lock_timeout_set_by_runner = true` under [tool.bgmigrate] (or a list of the paths it runs)."
)


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    if ctx.lock_timeout_set or ctx.reported(NAME):
        return  # reported once per migration: the question is asked of every operation
    locks = [lock for lock in table_locks(op) if not ctx.is_new_relation(lock.table)]
    if not locks or not ctx.first_time(NAME):
        return
    lock = locks[0]
    table = _locked(op, lock, ctx)
    yield Violation(
        message=(
            f"This statement needs {_article(lock)} {lock.mode.value} lock on {table} and no "
            "lock_timeout is "
            f"set: while it waits behind any running query or open transaction on {table}, "
            f"{lock.mode.blocks} on it from both app versions queue behind it, for as long "
            "as the wait lasts. Reported once per migration, at the first such statement. "
            f"{RUNNER_HINT}"
        ),
        safe_alternative=_set_timeout(ctx),
    )


def _locked(op: Operation, lock: TableLock, ctx: Context) -> str:
    """The locked table, in words: DROP INDEX and REINDEX INDEX name the index, not its table
    (which the run knows when it created the index)."""
    names_index = isinstance(op, DropIndex) or (
        isinstance(op, Reindex) and op.target_kind == "index"
    )
    if not names_index:
        return str(lock.table)
    table = ctx.index_table(lock.table)
    return f"the table of index {lock.table}" if table is None else str(table)


def _article(lock: TableLock) -> str:
    return "an" if lock.mode.value.startswith("A") else "a"


def _set_timeout(ctx: Context) -> str:
    if ctx.in_transaction:
        where, setting = "right after the BEGIN", "SET LOCAL lock_timeout = '2s';"
    else:
        where, setting = "at the top of the migration", "SET lock_timeout = '2s';"
    return lines(
        f"-- {where}, so that the statement gives up instead of stalling traffic; retry the "
        "migration when it times out:",
        setting,
    )


RULE = Rule(
    name=NAME,
    category=Category.LOCKING,
    severity=Severity.WARNING,
    summary="Set lock_timeout before a statement that takes a traffic-blocking lock.",
    why="""\
A statement that needs an ACCESS EXCLUSIVE lock (most `ALTER TABLE` forms, `DROP`, `TRUNCATE`)
or a SHARE / SHARE ROW EXCLUSIVE lock (`CREATE INDEX`, foreign keys, triggers) first waits for
every transaction that holds a conflicting lock, for example a long report query or an idle
transaction of the old (blue) app. While it waits, PostgreSQL queues every later query that
conflicts with it behind it: with ACCESS EXCLUSIVE, even plain SELECTs. A change that takes
milliseconds can thus stall the whole app for minutes. `lock_timeout` (all versions) bounds
the wait: the statement fails fast and the migration can be retried.

Reported once per migration, at the first statement that takes such a lock on an existing
table with no `SET lock_timeout` (or `SET LOCAL lock_timeout` in the same transaction block)
before it. Tables created in the same migration and `CONCURRENTLY` statements do not count.

A runner that sets `lock_timeout` outside the files (the connection string's
`options=-c lock_timeout=2s`, the migration tool's config, `bgmigrate apply`, an Alembic
`env.py` that runs `SET lock_timeout`) counts when the config says so:
`lock_timeout_set_by_runner = true` under `[tool.bgmigrate]`, or a list of the paths whose
runner does (`["db/goose"]`). An `env.py`'s setting is read without being declared.""",
    safe_alternative="""\
Set a short lock timeout at the top of the migration and retry on timeout:

```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
```

Inside a transaction block, `SET LOCAL` keeps the setting to that transaction:

```sql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
COMMIT;
```""",
    visits=(Operation,),
    check=check,
    flagged=(
        Example(
            sql="REFRESH MATERIALIZED VIEW order_totals;",
            note="Without CONCURRENTLY the refresh holds ACCESS EXCLUSIVE on the view: its readers wait.",
        ),
        Example(
            sql="BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\nUPDATE users SET email = lower(email) WHERE id = 1;\nCOMMIT;",
            line=2,
            note="An explicit LOCK TABLE queues traffic like any DDL.",
        ),
        Example(
            sql="ALTER TABLE users ADD COLUMN nickname text;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(
            sql="SET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;",
            note="SET LOCAL outside a transaction block has no effect.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;\n"
            "COMMIT;\nBEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;",
            line=6,
            note="SET LOCAL ends with its transaction.",
        ),
        Example(
            sql="SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN nickname text;",
            note="A zero lock_timeout waits forever.",
        ),
        Example(
            sql="CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));",
            note="A new table's foreign key locks the existing table it references (SHARE ROW EXCLUSIVE).",
        ),
        Example(
            sql="ALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE users ADD COLUMN bio text;",
            line=1,
            note="Reported once, at the first statement.",
        ),
    ),
    passing=(
        Example(
            sql="REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;",
            note="CONCURRENTLY takes EXCLUSIVE, which lets the view's readers through.",
        ),
        Example(
            sql="CREATE MATERIALIZED VIEW order_totals AS SELECT 1 AS total;\nREFRESH MATERIALIZED VIEW order_totals;",
        ),
        Example(sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;"),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;",
        ),
        Example(
            sql="CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
            "ALTER TABLE events ADD COLUMN payload jsonb;\n"
            "CREATE INDEX events_kind_idx ON events (kind);",
            note="Tables created in the same migration are locked by nobody else.",
        ),
        Example(
            sql="CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
            note="CONCURRENTLY statements take no lock that blocks traffic.",
        ),
        Example(
            sql="CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);\n"
            "CREATE VIEW tag_names AS SELECT name FROM tags;",
            note="Statements that lock no existing table need no timeout.",
        ),
    ),
)
