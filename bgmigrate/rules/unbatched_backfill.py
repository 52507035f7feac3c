"""unbatched-backfill: an UPDATE or DELETE in a migration locks its rows for the whole migration."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import DataChange

_ROW_CHANGES = ("update", "delete")


def check(op: DataChange, ctx: Context) -> Iterator[Violation]:
    if op.kind not in _ROW_CHANGES or ctx.is_new_table(op.table):
        return
    verb = op.kind.upper()
    scope = "matching row" if op.has_where else "row (there is no WHERE)"
    yield Violation(
        message=(
            f"{verb} on {op.table} runs as one statement in the migration, locking every "
            f"{scope} until it commits: the version still running (blue) blocks "
            f"whenever it updates or deletes one of those rows of {op.table}, and a large "
            "table means a long transaction, replication lag and bloat."
        ),
        safe_alternative=(
            f"Run the {verb} as a batched backfill outside the migration: one short "
            f"transaction per batch of primary keys of {op.table} (e.g. 1000), repeated until "
            "it changes nothing, from a job or `bgmigrate apply PLAN --phase backfill` "
            "(plans from `bgmigrate plan add-column …` / `set-not-null …` / `retype …` do "
            "this, resumably)."
        ),
    )


RULE = Rule(
    name="unbatched-backfill",
    category=Category.DATA,
    severity=Severity.WARNING,
    summary="An UPDATE or DELETE in a migration holds its row locks for the whole migration.",
    why="""\
A data change in a migration unit runs as one statement, usually inside the migration's
transaction: it takes a ROW EXCLUSIVE lock and a row lock on every row it touches (measured:
100k rows updated in 608 ms on PostgreSQL 15, all locked until commit). The version still
running (blue) blocks on any of those rows it updates or deletes; if a DDL statement shares the
transaction, its ACCESS EXCLUSIVE lock is held for the whole data change too. A `WHERE` clause
narrows the rows but not the single long transaction, so it is reported either way. Tables
created in the same unit are exempt: nobody else writes to them.""",
    safe_alternative="""\
Backfill in small batches, each its own short transaction, outside the DDL migration and
idempotently (the condition skips rows already done):

```sql
UPDATE users SET email_normalized = lower(email)
WHERE id IN (
  SELECT id FROM users WHERE email_normalized IS NULL ORDER BY id LIMIT 1000
);
-- repeat until it updates 0 rows
```

A plan's backfill phase does this with keyset batches, checkpoints and throttling:
`bgmigrate plan add-column users.email_normalized text --backfill "lower(email)"`, then
`bgmigrate apply PLAN --phase backfill`.""",
    visits=(DataChange,),
    check=check,
    flagged=(
        Example(
            sql="UPDATE users SET email_normalized = lower(email);",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text, email_normalized text);",
        ),
        Example(
            sql="-- bgmigrate: phase=backfill\nDELETE FROM sessions WHERE expires_at < now();",
            line=2,
            note="A WHERE clause still makes one long transaction; so does a backfill unit.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN active boolean;\n"
            "UPDATE users SET active = true WHERE active IS NULL;",
            note="The column is new but the table is not.",
        ),
    ),
    passing=(
        Example(
            sql="CREATE TABLE countries (code text PRIMARY KEY, name text);\n"
            "INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany');\n"
            "UPDATE countries SET name = upper(name);",
            note="A table created in the same unit is written by nobody else.",
        ),
        Example(
            sql="CREATE TABLE import_rows (id bigint PRIMARY KEY, ok boolean);\n"
            "DELETE FROM import_rows WHERE NOT ok;",
        ),
        Example(sql="INSERT INTO feature_flags (name, enabled) VALUES ('new_checkout', false);"),
    ),
)
