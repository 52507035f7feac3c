"""drop-column: dropping a column the old app still reads or writes breaks it."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AddColumn, DropColumn
from bgmigrate.source.unit import Phase


def check(op: DropColumn, ctx: Context) -> Iterator[Violation]:
    if ctx.phase is Phase.CONTRACT or ctx.is_new_table(op.table):
        return
    target = f"{op.table}.{op.column}"
    added_back = _added_back(op, ctx)
    if added_back is not None:
        retyped = f" as {added_back.column.type}" if added_back.column.type else ""
        yield Violation(
            message=(
                f"Dropping {target} and adding it back{retyped} (line "
                f"{added_back.location.line}) in this {ctx.phase.value} unit erases every value "
                f"of {op.column}: the version still running (blue) finds its column empty, and "
                "its writes fail if they do not fit the new definition."
            ),
            safe_alternative=(
                f"To change {target}'s type, keep the data: `bgmigrate plan retype {target} "
                "NEW_TYPE` adds a new column kept in sync, backfills it and swaps them; to "
                "discard the values on purpose, do it in a unit tagged "
                "`-- bgmigrate: phase=contract`."
            ),
        )
        return
    yield Violation(
        message=(
            f"Dropping {target} in this {ctx.phase.value} unit breaks the version still running (blue): its SELECTs, "
            f"INSERTs and UPDATEs that name {op.column} fail with UndefinedColumn."
        ),
        safe_alternative=(
            f"Stop reading and writing {target} in the app and deploy that, then drop it in a "
            "unit tagged `-- bgmigrate: phase=contract` that runs after the old version is "
            f"retired: `bgmigrate plan drop {target}`."
        ),
    )


def _added_back(op: DropColumn, ctx: Context) -> AddColumn | None:
    """The ADD COLUMN of the same name that follows the drop in the unit, if there is one."""
    here = next((i for i, other in enumerate(ctx.operations) if other is op), None)
    if here is None:
        return None
    for later in ctx.operations[here + 1 :]:
        if (
            isinstance(later, AddColumn)
            and later.table.key == op.table.key
            and later.column.name == op.column
        ):
            return later
    return None


RULE = Rule(
    name="drop-column",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="Dropping a column breaks the app version that still uses it; drop in a contract unit.",
    why="""\
`ALTER TABLE … DROP COLUMN` is quick (a brief ACCESS EXCLUSIVE lock, no rewrite: the space is
reclaimed by a later rewrite), but the version still running (blue) may read or write the
column: every SELECT, INSERT and UPDATE that names it fails with `UndefinedColumn` (measured), and
ORMs that list every mapped column name it in every query. Expand and backfill units run while
the old version serves traffic, so drops belong in a contract unit, after it is retired. Columns
of a table created in the same unit are exempt.""",
    safe_alternative="""\
1. Stop using the column in the app (for an ORM, unmap it: SQLAlchemy `deferred`/removed
   attribute, Django `SeparateDatabaseAndState`) and deploy that version everywhere;
2. drop the column in a unit that runs after the old version is retired:

```sql
-- bgmigrate: phase=contract
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN legacy_flag;
```

Drop indexes on the column first with `DROP INDEX CONCURRENTLY`, and replace dependent views
yourself rather than with `CASCADE`. `bgmigrate plan drop users.legacy_flag` writes the plan.""",
    visits=(DropColumn,),
    check=check,
    plan_command="bgmigrate plan drop TABLE.COLUMN",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            'ALTER TABLE "UserOAuth" DROP COLUMN "refreshToken",\n'
            '  ADD COLUMN "refreshToken" bytea;',
            line=2,
            note="A type change by drop and add keeps the name and loses every value.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users DROP COLUMN legacy_flag;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, legacy_flag boolean);",
        ),
        Example(
            sql="-- bgmigrate: phase=backfill\nALTER TABLE users DROP COLUMN IF EXISTS legacy_flag;",
            line=2,
            note="A backfill unit runs while the old version still serves traffic.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders\n  ADD COLUMN note text,\n  DROP COLUMN comment CASCADE;",
            line=4,
        ),
    ),
    passing=(
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\n"
            "ALTER TABLE users DROP COLUMN legacy_flag;",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users DROP COLUMN legacy_flag;",
            phase=Phase.CONTRACT,
        ),
        Example(
            sql="CREATE TABLE drafts (id bigint PRIMARY KEY, body text, scratch text);\n"
            "ALTER TABLE drafts DROP COLUMN scratch;",
            note="A table created in the same unit is used by nobody yet.",
        ),
    ),
)
