"""create-index-non-concurrently: a plain CREATE INDEX blocks writes for the whole build."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.locks import LockMode
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import CreateIndex, Name
from bgmigrate.rules.recipes import OUTSIDE_TRANSACTION, lines, qualified

# CREATE [UNIQUE] INDEX, with whatever comments a user put between the words.
_GAP = r"(?:\s|--[^\n]*\n|/\*.*?\*/)+"
_CREATE_INDEX = re.compile(rf"(?is)^(CREATE{_GAP}(?:UNIQUE{_GAP})?INDEX)\b")
_PLAIN_COLUMN = re.compile(r"[a-z_][a-z0-9_$]*")


def check(op: CreateIndex, ctx: Context) -> Iterator[Violation]:
    if op.concurrently or ctx.is_new_table(op.table):
        return
    kind = "UNIQUE INDEX" if op.unique else "INDEX"
    index = f" {op.name}" if op.name is not None else ""
    columns = ", ".join(op.columns)
    yield Violation(
        message=(
            f"CREATE {kind}{index} on {op.table} ({columns}) takes a SHARE lock on {op.table}: "
            f"it blocks {LockMode.SHARE.blocks} to {op.table}, from both app versions, for the "
            "whole index build, a full scan of the table."
        ),
        safe_alternative=_concurrently(op),
    )


def _plannable(op: CreateIndex) -> bool:
    """Whether `bgmigrate plan add-index` builds this very index: a plain b-tree on one column."""
    return (
        not op.unique
        and op.method == "btree"
        and op.where_sql is None
        and len(op.columns) == 1
        and _PLAIN_COLUMN.fullmatch(op.columns[0]) is not None
    )


def _concurrently(op: CreateIndex) -> str:
    statement = _CREATE_INDEX.sub(r"\1 CONCURRENTLY", op.statement.sql.strip(), count=1)
    plan = None
    if _plannable(op):
        plan = f"bgmigrate plan add-index {op.table}.{op.columns[0]}"
    invalid = None
    if op.name is not None:
        # An index always lives in its table's schema.
        index = qualified(Name(op.name.name, op.table.schema))
        invalid = (
            "-- if the build fails it leaves an INVALID index: "
            f"DROP INDEX CONCURRENTLY {index}; then run it again"
        )
    return lines(plan, OUTSIDE_TRANSACTION, f"{statement};", invalid)


RULE = Rule(
    name="create-index-non-concurrently",
    category=Category.LOCKING,
    severity=Severity.ERROR,
    summary="CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build.",
    why="""\
`CREATE [UNIQUE] INDEX` takes a SHARE lock on the table (measured): reads continue, but every
INSERT, UPDATE and DELETE from both the old (blue) and the new (green) app version waits until
the index is built, which takes a full scan and sort of the table (about 120 ms per 100 k
rows, measured; minutes on large tables). `CREATE INDEX CONCURRENTLY` builds the same index
under SHARE UPDATE EXCLUSIVE, which lets writes continue, at the cost of two scans and of
running outside a transaction block (all versions; avoid PostgreSQL 14.0–14.3, whose
concurrent builds could corrupt indexes).

Tables created earlier in the same migration are empty and used by nobody: they are not
reported.""",
    safe_alternative="""\
Build the index concurrently, in its own migration that runs outside a transaction block
(no `BEGIN`; Alembic: `with op.get_context().autocommit_block():`):

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);
```

If it fails (a lock timeout, a duplicate for a UNIQUE index) it leaves an INVALID index
behind: `DROP INDEX CONCURRENTLY users_email_idx;` and run it again.
`bgmigrate plan add-index users.email` writes this migration.""",
    visits=(CreateIndex,),
    check=check,
    plan_command="bgmigrate plan add-index TABLE.COLUMN",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nCREATE INDEX users_email_idx ON users (email);",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nCREATE UNIQUE INDEX users_lower_email_key\n  ON public.users (lower(email));",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\nCREATE INDEX ON orders (user_id, created_at) WHERE deleted_at IS NULL;\nCOMMIT;",
            line=3,
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nCREATE INDEX IF NOT EXISTS orders_status_idx ON orders USING hash (status);",
            note="No phase makes the write block harmless.",
        ),
    ),
    passing=(
        Example(sql="CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
        Example(
            sql="CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);"
        ),
        Example(
            sql="CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
            "CREATE INDEX events_kind_idx ON events (kind);",
            note="A table created in the same migration is empty and used by nobody.",
        ),
        Example(
            sql="BEGIN;\nCREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
            "CREATE UNIQUE INDEX events_kind_key ON events (kind);\nCOMMIT;",
        ),
    ),
)
