"""create-index-non-concurrently: a plain CREATE INDEX blocks writes for the whole build."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.locks import LockMode
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import CreateIndex, Name
from bgmigrate.rules.recipes import OUTSIDE_TRANSACTION, identifier, lines, qualified
from bgmigrate.source.patterns import LazyPattern

# CREATE [UNIQUE] INDEX, with whatever comments a user put between the words.
_GAP = r"(?:\s|--[^\n]*\n|/\*.*?\*/)+"
_CREATE_INDEX = LazyPattern(rf"(?is)^(CREATE{_GAP}(?:UNIQUE{_GAP})?INDEX)\b")
_PLAIN_COLUMN = re.compile(r"[a-z_][a-z0-9_$]*")


def check(op: CreateIndex, ctx: Context) -> Iterator[Violation]:
    if ctx.is_new_table(op.table):
        return
    partitions = ctx.partitions(op.table)
    if op.only and not ctx.is_plain_table(op.table):
        return  # ON ONLY a partitioned parent writes the catalog and builds nothing
    kind = "UNIQUE INDEX" if op.unique else "INDEX"
    index = f" {op.name}" if op.name is not None else ""
    columns = ", ".join(op.columns)
    if partitions is not None and _adopts_existing(op, partitions, ctx):
        return
    if partitions is not None:
        written = f"CREATE {kind}{index} on {op.table} ({columns})"
        yield _on_partitioned_parent(op, written, partitions)
        return
    if op.concurrently:
        return
    yield Violation(
        message=(
            f"CREATE {kind}{index} on {op.table} ({columns}) takes a SHARE lock on {op.table}: "
            f"it blocks {LockMode.SHARE.blocks} to {op.table}, from both app versions, for the "
            "whole index build, a full scan of the table."
        ),
        safe_alternative=_concurrently(op),
    )


def _adopts_existing(op: CreateIndex, partitions: list[Name], ctx: Context) -> bool:
    """True when every partition already has an index like this one, built earlier in the
    run (the recipe's CONCURRENTLY step): PostgreSQL then attaches them and builds nothing.
    When the run does not know the partitions (a function created them), indexes like it on
    tables named after the parent (`events_2024` for `events`) stand for them."""
    if partitions:
        return all(ctx.has_index_like(partition, op) for partition in partitions)
    prefix = Name(f"{op.table.name}_", op.table.schema).key
    return any(key.startswith(prefix) for key in ctx.tables_indexed_like(op))


def _on_partitioned_parent(op: CreateIndex, written: str, partitions: list[Name]) -> Violation:
    if op.concurrently:
        what = (
            f"{written}: {op.table} is partitioned, and PostgreSQL cannot build an index on a "
            "partitioned table CONCURRENTLY: the statement fails."
        )
    else:
        what = (
            f"{written}: {op.table} is partitioned, so this builds the index on every "
            f"partition, each under a SHARE lock that blocks {LockMode.SHARE.blocks} to it, "
            "held until the statement ends; on a partitioned table it cannot run "
            "CONCURRENTLY."
        )
    return Violation(
        message=what + " Build it partition by partition and attach the pieces.",
        safe_alternative=_partition_recipe(op, partitions),
    )


def _partition_recipe(op: CreateIndex, partitions: list[Name]) -> str:
    """ON ONLY the parent (catalog only), CONCURRENTLY per partition, then ATTACH each."""
    parent = op.name.name if op.name is not None else f"{op.table.name}_{op.columns[0]}_idx"
    unique = "UNIQUE " if op.unique else ""
    using = f"USING {op.method} " if op.method != "btree" else ""
    where = f" WHERE {op.where_sql}" if op.where_sql else ""
    body = f"{using}({', '.join(op.columns)}){where}"
    # Without known partitions, one placeholder stands for each of them.
    children = partitions or [Name("each_partition", op.table.schema)]
    pieces = [(child, f"{child.name}_{parent}") for child in children]
    return lines(
        "-- the parent alone: writes the catalog, builds nothing (the index is invalid until "
        "every partition's index is attached):",
        f"CREATE {unique}INDEX IF NOT EXISTS {identifier(parent)} ON ONLY {qualified(op.table)} "
        f"{body};",
        OUTSIDE_TRANSACTION.replace("in its own migration", "each partition in its own migration"),
        [
            f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {identifier(index)} "
            f"ON {qualified(child)} {body};"
            for child, index in pieces
        ],
        "-- then attach each (a brief lock on the partition's index):",
        [
            f"ALTER INDEX {qualified(Name(parent, op.table.schema))} "
            f"ATTACH PARTITION {qualified(Name(index, child.schema))};"
            for child, index in pieces
        ],
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

On a partitioned table the build runs on every partition, each locked SHARE until the
statement ends, and PostgreSQL refuses `CONCURRENTLY` there. `CREATE INDEX … ON ONLY parent`
writes the catalog alone (instant, not reported); each partition's index is then built
concurrently and attached with `ALTER INDEX … ATTACH PARTITION`.

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

On a partitioned table:

```sql
CREATE INDEX IF NOT EXISTS events_kind_idx ON ONLY events (kind);
-- each partition in its own migration, outside a transaction block:
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_events_kind_idx ON events_2024 (kind);
ALTER INDEX events_kind_idx ATTACH PARTITION events_2024_events_kind_idx;
```

`bgmigrate plan add-index users.email` writes this migration.""",
    visits=(CreateIndex,),
    check=check,
    lengthens_lock=True,
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
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "ALTER TABLE users ADD COLUMN nickname text;\n"
            "CREATE INDEX users_nickname_idx ON users (nickname);\n"
            "CREATE INDEX users_email_idx ON users (email);\nCOMMIT;",
            line=4,
            note="The ADD COLUMN's ACCESS EXCLUSIVE lock is held through the first build, "
            "reads included; the second build on the same table and transaction is not "
            "reported again.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nCREATE INDEX events_kind_idx ON events (kind);",
            before="CREATE TABLE events (id bigint, kind text, at date) PARTITION BY RANGE (at);\n"
            "CREATE TABLE events_2024 PARTITION OF events\n"
            "  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            note="On a partitioned table the build locks every partition and cannot run "
            "CONCURRENTLY: the advice is the per-partition recipe.",
        ),
        Example(
            sql="CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);",
            before="CREATE TABLE events (id bigint, kind text, at date) PARTITION BY RANGE (at);\n"
            "CREATE TABLE events_2024 PARTITION OF events\n"
            "  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            note="PostgreSQL refuses CONCURRENTLY on a partitioned table.",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nCREATE INDEX IF NOT EXISTS orders_status_idx ON orders USING hash (status);",
            note="No phase makes the write block harmless.",
        ),
    ),
    passing=(
        Example(sql="CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
        Example(
            sql="SET lock_timeout = '2s';\nCREATE INDEX events_kind_idx ON ONLY events (kind);",
            before="CREATE TABLE events (id bigint, kind text, at date) PARTITION BY RANGE (at);\n"
            "CREATE TABLE events_2024 PARTITION OF events\n"
            "  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            note="ON ONLY a partitioned parent writes the catalog and builds nothing.",
        ),
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
