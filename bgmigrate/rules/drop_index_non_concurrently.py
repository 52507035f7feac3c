"""drop-index-non-concurrently: a plain DROP INDEX locks the whole table while it waits."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import DropIndex
from bgmigrate.rules.recipes import OUTSIDE_TRANSACTION, lines, qualified


def check(op: DropIndex, ctx: Context) -> Iterator[Violation]:
    if op.concurrently:
        return
    existing = [name for name in op.names if not ctx.is_new_index(name)]
    if not existing:
        return
    guard = "IF EXISTS " if op.if_exists else ""
    tables = {ctx.index_table(name) for name in existing}
    known = next(iter(tables)) if len(tables) == 1 else None
    table = f"its table, {known}" if known is not None else "the index's table"
    those = str(known) if known is not None else "that table"
    yield Violation(
        message=(
            f"DROP INDEX {', '.join(map(str, existing))} takes an ACCESS EXCLUSIVE lock on "
            f"{table}: all reads and writes to {those}, from both app versions, are "
            "blocked while it waits for running queries to finish and while the index is removed."
        ),
        safe_alternative=lines(
            OUTSIDE_TRANSACTION,
            (f"DROP INDEX CONCURRENTLY {guard}{qualified(name)};" for name in existing),
            "-- CONCURRENTLY drops one index per statement and does not accept CASCADE: drop "
            "dependent objects first"
            if op.cascade
            else None,
            "-- an index that backs a UNIQUE or PRIMARY KEY constraint cannot be dropped "
            "concurrently: drop the constraint instead (ALTER TABLE … DROP CONSTRAINT …, in a "
            "contract migration)",
        ),
    )


RULE = Rule(
    name="drop-index-non-concurrently",
    category=Category.LOCKING,
    severity=Severity.WARNING,
    summary="DROP INDEX without CONCURRENTLY blocks all reads and writes to the table.",
    why="""\
`DROP INDEX` takes an ACCESS EXCLUSIVE lock on the table the index belongs to (measured), so
it must wait for every running query on that table to finish, and every query that arrives
meanwhile, from both the old (blue) and the new (green) app version, queues behind it. The
drop itself is quick; the wait is what stalls the app, for as long as the longest running
query on the table. `DROP INDEX CONCURRENTLY` takes only SHARE UPDATE EXCLUSIVE and lets
reads and writes continue. Indexes created earlier in the same migration are used by nobody
and are not reported.

`DROP INDEX CONCURRENTLY` has limits: one index per statement, no `CASCADE`, not inside a
transaction block, and it cannot drop an index that backs a UNIQUE or PRIMARY KEY
constraint (PostgreSQL reports that the constraint requires it): drop the constraint instead.""",
    safe_alternative="""\
1. Put each drop in its own statement, in a migration that runs outside a transaction block
   (no `BEGIN`; Alembic: `with op.get_context().autocommit_block():`):

   ```sql
   DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
   ```
2. For an index that backs a constraint, drop the constraint in a contract migration:
   `SET lock_timeout = '2s'; ALTER TABLE users DROP CONSTRAINT users_email_key;`""",
    visits=(DropIndex,),
    check=check,
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nDROP INDEX users_email_idx;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
            "CREATE INDEX users_email_idx ON users (email);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nDROP INDEX IF EXISTS public.users_email_idx, users_name_idx;",
            note="Every index of a multi-index DROP is named; the advice drops them one by one.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\nDROP INDEX users_email_idx CASCADE;\nCOMMIT;",
            line=3,
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nDROP INDEX users_email_idx;",
            note="No phase makes the table lock harmless.",
        ),
    ),
    passing=(
        Example(sql="DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;"),
        Example(
            sql="SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY users_email_idx2 ON users (email);\n"
            "DROP INDEX CONCURRENTLY users_email_idx;",
            note="Replacing an index: build the new one, then drop the old one, both concurrently.",
        ),
        Example(
            sql="CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
            "CREATE INDEX events_kind_idx ON events (kind);\n"
            "DROP INDEX events_kind_idx;",
            note="An index created earlier in the same migration is used by nobody yet.",
        ),
    ),
)
