"""detach-partition-non-concurrently: a plain DETACH PARTITION blocks the whole parent."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import DetachPartition
from bgmigrate.rules.recipes import OUTSIDE_TRANSACTION, lines, qualified

# DETACH PARTITION … CONCURRENTLY exists since PostgreSQL 14.
_CONCURRENT_DETACH = 14


def check(op: DetachPartition, ctx: Context) -> Iterator[Violation]:
    if op.concurrently or op.finalize or ctx.is_new_table(op.table):
        return
    message = (
        f"Detaching {op.partition} from {op.table} takes an ACCESS EXCLUSIVE lock on both: "
        f"every read and write of {op.table} and of its other partitions, from both app "
        "versions, waits until the migration commits, and queues behind any query already "
        f"running on {op.table}."
    )
    if ctx.pg_version < _CONCURRENT_DETACH:
        yield Violation(
            message + f" PostgreSQL {ctx.pg_version} has no concurrent form (14+ has).",
            safe_alternative=lines(
                "-- keep the lock wait short and retry on timeout:",
                "SET lock_timeout = '2s';",
                f"{op.statement.sql.strip()};",
            ),
        )
        return
    yield Violation(
        message,
        safe_alternative=lines(
            OUTSIDE_TRANSACTION,
            f"ALTER TABLE {qualified(op.table)} DETACH PARTITION {qualified(op.partition)} "
            "CONCURRENTLY;",
            "-- if it is interrupted, finish it with: ALTER TABLE "
            f"{qualified(op.table)} DETACH PARTITION {qualified(op.partition)} FINALIZE;",
        ),
    )


RULE = Rule(
    name="detach-partition-non-concurrently",
    category=Category.LOCKING,
    severity=Severity.ERROR,
    summary="DETACH PARTITION without CONCURRENTLY locks the parent against all reads and writes.",
    why="""\
`ALTER TABLE parent DETACH PARTITION child` takes an ACCESS EXCLUSIVE lock on the parent and on
the partition (measured): every query on the partitioned table, whichever partition it reads,
waits, and while the statement itself waits for running queries, all later ones queue behind
it. `DETACH PARTITION … CONCURRENTLY` (PostgreSQL 14+) takes SHARE UPDATE EXCLUSIVE instead
and waits for running queries to finish; it cannot run inside a transaction block. Tables
created in the same migration are exempt.""",
    safe_alternative="""\
Detach concurrently, in its own migration outside a transaction block (PostgreSQL 14+):

```sql
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;
```

If it is interrupted, `ALTER TABLE events DETACH PARTITION events_2023 FINALIZE;` completes it.
Before PostgreSQL 14, set a short `lock_timeout` and retry.""",
    visits=(DetachPartition,),
    check=check,
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE events DETACH PARTITION events_2023;",
            before="CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);\n"
            "CREATE TABLE events_2023 PARTITION OF events\n"
            "  FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');",
        ),
        Example(
            sql="ALTER TABLE events DETACH PARTITION events_2023;",
            pg_version=13,
            note="Before PostgreSQL 14 there is no concurrent form: only a lock_timeout helps.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "ALTER TABLE public.events DETACH PARTITION public.events_2023;\nCOMMIT;",
            line=3,
        ),
    ),
    passing=(
        Example(sql="ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;"),
        Example(sql="ALTER TABLE events DETACH PARTITION events_2023 FINALIZE;"),
        Example(
            sql="CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);\n"
            "CREATE TABLE events_2023 PARTITION OF events\n"
            "  FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');\n"
            "ALTER TABLE events DETACH PARTITION events_2023;",
            note="A table created in the same migration is used by nobody.",
        ),
    ),
)
