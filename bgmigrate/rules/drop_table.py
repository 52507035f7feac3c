"""drop-table: dropping a table the old app still uses breaks it."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import DropTable
from bgmigrate.source.unit import Phase


def check(op: DropTable, ctx: Context) -> Iterator[Violation]:
    if ctx.phase is Phase.CONTRACT:
        return
    existing = [table for table in op.tables if not ctx.is_new_table(table)]
    if not existing:
        return
    names = ", ".join(map(str, existing))
    cascade = (
        " CASCADE also drops the foreign keys and views that depend on it." if op.cascade else ""
    )
    yield Violation(
        message=(
            f"Dropping {names} in this {ctx.phase.value} unit breaks the version still running "
            f"(blue): its queries on {names} fail with UndefinedTable.{cascade}"
        ),
        safe_alternative=(
            f"Stop using {names} in the app and deploy that, then drop it in a unit tagged "
            "`-- bgmigrate: phase=contract` that runs after the old version is retired: "
            + " / ".join(f"`bgmigrate plan drop {table}`" for table in existing)
            + "."
        ),
    )


RULE = Rule(
    name="drop-table",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="Dropping a table breaks the app version that still uses it; drop in a contract unit.",
    why="""\
`DROP TABLE` takes an ACCESS EXCLUSIVE lock on the table (and, with `CASCADE`, on the tables
whose foreign keys reference it: measured), and afterwards every query of the version still
running (blue) that names the table fails with `UndefinedTable`. Expand and backfill units run
while the old version serves traffic, so drops belong in a contract unit, after it is retired.
Tables created in the same unit are exempt.""",
    safe_alternative="""\
1. Stop reading and writing the table in the app and deploy that version everywhere;
2. drop it in a unit that runs after the old version is retired:

```sql
-- bgmigrate: phase=contract
SET lock_timeout = '2s';
DROP TABLE old_sessions;
```

Drop or re-point the foreign keys that reference it explicitly rather than with `CASCADE`.
`bgmigrate plan drop old_sessions` writes the plan.""",
    visits=(DropTable,),
    check=check,
    plan_command="bgmigrate plan drop TABLE",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nDROP TABLE old_sessions;",
            before="CREATE TABLE old_sessions (id bigint PRIMARY KEY);",
        ),
        Example(
            sql="-- bgmigrate: phase=backfill\nDROP TABLE IF EXISTS audit_log CASCADE;",
            line=2,
            note="A backfill unit runs while the old version still serves traffic.",
        ),
        Example(
            sql="CREATE TABLE scratch (id int);\nSET lock_timeout = '2s';\nDROP TABLE scratch, old_sessions;",
            note="One of the two tables is new, the other is not.",
        ),
    ),
    passing=(
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nDROP TABLE old_sessions;",
        ),
        Example(sql="SET lock_timeout = '2s';\nDROP TABLE old_sessions;", phase=Phase.CONTRACT),
        Example(
            sql="CREATE TABLE import_batch (id bigint PRIMARY KEY, payload jsonb);\n"
            "DROP TABLE import_batch;",
            note="A table created in the same unit is used by nobody yet.",
        ),
    ),
)
