"""concurrently-in-transaction: PostgreSQL refuses CONCURRENTLY inside a transaction block."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import (
    CreateIndex,
    DetachPartition,
    DropIndex,
    Operation,
    Reindex,
)
from bgmigrate.rules.recipes import lines
from bgmigrate.source.patterns import LazyPattern
from bgmigrate.source.unit import Statement, UnitKind

_OPENS_TRANSACTION = LazyPattern(r"(?i)(begin|start\s+transaction)\b")
_CHAINS = LazyPattern(r"(?is)(?:commit|end|rollback|abort)\b.*\band\s+chain\b")


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    if not _is_concurrent(op) or ctx.statement is None:
        return
    refused = _refused_form(op)
    if op.statement is not ctx.statement:
        # Run by a DO block or a function: their statements always run in a transaction.
        yield Violation(
            message=(
                "This statement runs inside a DO block or function, where PostgreSQL refuses "
                "it (ERROR: "
                f"{refused} cannot be executed from a function): the migration fails at "
                "run time."
            ),
            safe_alternative=lines(_own_migration(ctx), f"{op.statement.sql.strip()};"),
        )
        return
    if not ctx.statement.in_transaction:
        return
    yield Violation(
        message=(
            f"This statement runs in {_transaction_origin(ctx)}, where PostgreSQL refuses it "
            f"(ERROR: {refused} cannot run inside a transaction block): the migration fails at "
            "run time and everything before it in the transaction is rolled back."
        ),
        safe_alternative=lines(_own_migration(ctx), f"{ctx.statement.sql.strip()};"),
    )


def _is_concurrent(op: Operation) -> bool:
    return isinstance(op, (CreateIndex, DropIndex, Reindex, DetachPartition)) and op.concurrently


def _refused_form(op: Operation) -> str:
    """The statement as PostgreSQL's error message names it."""
    if isinstance(op, CreateIndex):
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(op, DropIndex):
        return "DROP INDEX CONCURRENTLY"
    if isinstance(op, Reindex):
        return "REINDEX CONCURRENTLY"
    return "ALTER TABLE ... DETACH CONCURRENTLY"


def _transaction_origin(ctx: Context) -> str:
    """Who opened the current transaction block: an explicit BEGIN, or the runner."""
    current = ctx.statement.transaction if ctx.statement else None
    first = _first_of_block(ctx, current)
    opener = _OPENS_TRANSACTION.match(first.sql)
    if opener is not None:
        keyword = " ".join(opener.group(1).upper().split())
        return f"the transaction opened by {keyword} on line {first.location.line}"
    if ctx.unit.kind is UnitKind.ALEMBIC:
        return "the transaction Alembic wraps around the revision"
    if _chained(ctx, first):
        return "a transaction chained by COMMIT AND CHAIN"
    blocks = {s.transaction for s in ctx.unit.statements if s.transaction not in (None, current)}
    if any(_runner_opened(ctx, block) for block in blocks):
        return (
            "the transaction the migration tool wraps around this part of the file (it runs "
            "each part, e.g. each changeset, in a transaction of its own)"
        )
    return (
        "the transaction the runner wraps around the whole file (the migration tool's "
        "own, or assume_in_transaction)"
    )


def _first_of_block(ctx: Context, block: int | None) -> Statement:
    return next(s for s in ctx.unit.statements if s.transaction == block)


def _chained(ctx: Context, first: Statement) -> bool:
    """Whether the statement before a block's first one ends the last block AND CHAIN."""
    return first.index > 0 and _CHAINS.match(ctx.unit.statements[first.index - 1].sql) is not None


def _runner_opened(ctx: Context, block: int | None) -> bool:
    """Whether the migration tool, not the file's own SQL, opened this block."""
    first = _first_of_block(ctx, block)
    return _OPENS_TRANSACTION.match(first.sql) is None and not _chained(ctx, first)


def _own_migration(ctx: Context) -> str:
    if ctx.unit.kind is UnitKind.ALEMBIC:
        return (
            "-- run it inside `with op.get_context().autocommit_block():` in the revision "
            "(or in a revision of its own), outside Alembic's transaction:"
        )
    return (
        "-- in its own migration file without BEGIN/COMMIT, run by a runner that does not wrap "
        "files in a transaction (psql: no --single-transaction):"
    )


RULE = Rule(
    name="concurrently-in-transaction",
    category=Category.LOCKING,
    severity=Severity.ERROR,
    summary="A CONCURRENTLY statement inside a transaction block fails at run time.",
    why="""\
`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY` and
`ALTER TABLE … DETACH PARTITION … CONCURRENTLY` work in several transactions of their own, so
PostgreSQL refuses to run them inside a transaction block: `ERROR: CREATE INDEX CONCURRENTLY
cannot run inside a transaction block` (all versions). The block can be an explicit `BEGIN`
in the file, a runner that wraps every file in a transaction (`assume_in_transaction`,
`psql --single-transaction`), or Alembic, which runs each revision in one transaction unless
the statement is inside `autocommit_block()`. The migration fails in production and rolls
back whatever ran before it in the same transaction.

This holds even for tables created in the same migration. `REFRESH MATERIALIZED VIEW
CONCURRENTLY` is not affected: it may run inside a transaction block.""",
    safe_alternative="""\
Run the statement outside any transaction block, in its own migration:

```sql
-- 0005_users_email_idx.sql: no BEGIN/COMMIT
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);
```

In Alembic:

```python
with op.get_context().autocommit_block():
    op.create_index("users_email_idx", "users", ["email"], postgresql_concurrently=True)
```

If the build fails midway it leaves an INVALID index: drop it (`DROP INDEX CONCURRENTLY
users_email_idx;`) and run the migration again.""",
    visits=(CreateIndex, DropIndex, Reindex, DetachPartition),
    check=check,
    flagged=(
        Example(
            sql="DO $$\nBEGIN\n  CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n"
            "END $$;",
            line=3,
            note="A DO block runs its statements in a transaction of its own, even in autocommit.",
        ),
        Example(
            sql="BEGIN;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nCOMMIT;",
            line=2,
        ),
        Example(
            sql="CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
            assume_in_transaction=True,
            note="The runner wraps the whole file in a transaction.",
        ),
        Example(
            sql="BEGIN;\nCREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
            "CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);\nCOMMIT;",
            line=3,
            note="Fires for new tables too: the statement fails whatever the table.",
        ),
        Example(
            sql="START TRANSACTION;\nDROP INDEX CONCURRENTLY users_email_idx;\nCOMMIT;",
            line=2,
        ),
        Example(
            sql="BEGIN;\nREINDEX INDEX CONCURRENTLY users_email_idx;\nCOMMIT;",
            line=2,
        ),
        Example(
            sql="ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;",
            assume_in_transaction=True,
        ),
    ),
    passing=(
        Example(sql="CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;\n"
            "COMMIT;\nCREATE INDEX CONCURRENTLY users_nickname_idx ON users (nickname);",
            note="After COMMIT the file runs in autocommit again.",
        ),
        Example(
            sql="BEGIN;\nREFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;\nCOMMIT;",
            note="REFRESH MATERIALIZED VIEW CONCURRENTLY is allowed in a transaction block.",
        ),
        Example(sql="REINDEX INDEX CONCURRENTLY users_email_idx;"),
        Example(sql="ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;"),
    ),
)
