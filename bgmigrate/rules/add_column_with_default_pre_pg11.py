"""add-column-with-default-pre-pg11: before PostgreSQL 11 any ADD COLUMN … DEFAULT rewrites."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AddColumn
from bgmigrate.rules.recipes import add_then_backfill, lines, plain_add_column
from bgmigrate.source.patterns import LazyPattern

_NULL = LazyPattern(r"(?i)\(*\s*null\s*\)*(\s*::.*)?")


def check(op: AddColumn, ctx: Context) -> Iterator[Violation]:
    default = op.column.default
    if ctx.pg_version >= 11 or default is None or op.column.generated is not None:
        # Serial, identity and generated columns are add-generated-column's.
        return
    if ctx.is_new_table(op.table):
        return
    is_null = _NULL.fullmatch(default.sql.strip()) is not None
    writes = "writes NULL into every row" if is_null else "writes the default into every row"
    yield Violation(
        message=(
            f"On PostgreSQL {ctx.pg_version}, adding {op.table}.{op.column.name} with DEFAULT "
            f"{default.sql} rewrites {op.table} and all its indexes under an ACCESS EXCLUSIVE "
            f"lock (it {writes}): all reads and writes to {op.table}, from both app versions, "
            "are blocked for the whole rewrite. Only PostgreSQL 11 and later add a default "
            "without a rewrite."
        ),
        safe_alternative=(
            lines(
                "-- leave out DEFAULT NULL: a new column is NULL in every row without it",
                plain_add_column(op, default=False),
            )
            if is_null
            else add_then_backfill(op, default.sql)
        ),
    )


RULE = Rule(
    name="add-column-with-default-pre-pg11",
    category=Category.REWRITE,
    severity=Severity.ERROR,
    summary="Before PostgreSQL 11, ADD COLUMN with any DEFAULT rewrites the whole table.",
    why="""\
PostgreSQL 11 made `ADD COLUMN … DEFAULT <non-volatile>` a catalog-only change. On 10 and
earlier every `ADD COLUMN` with a `DEFAULT`, even a constant and even `DEFAULT NULL` (reported
on 9.6), writes the value into every existing row: the table and all its indexes are rewritten
while ACCESS EXCLUSIVE is held, and every query of both app versions waits for it.

The verdict depends on the target version (`--pg-version`, config `pg_version`): this rule
fires only below 11. Tables created in the same migration are not reported.""",
    safe_alternative="""\
On PostgreSQL 10 and earlier, add the column without a default, set the default for new rows,
then backfill in batches:

```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN status text;
ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';
-- then, in batches, outside the DDL transaction:
UPDATE users SET status = 'active'
 WHERE id IN (SELECT id FROM users WHERE status IS NULL LIMIT 1000);
```

`bgmigrate plan add-column users.status text --backfill "'active'"` writes these steps. A
`DEFAULT NULL` clause can simply be left out.""",
    visits=(AddColumn,),
    check=check,
    plan_command='bgmigrate plan add-column TABLE.COLUMN TYPE --backfill "EXPR"',
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN status text DEFAULT 'active';",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
            pg_version=10,
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';",
            pg_version=9,
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN note text DEFAULT NULL;",
            pg_version=10,
            note="Even DEFAULT NULL rewrites before 11.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();",
            pg_version=10,
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN status text DEFAULT 'active';",
            pg_version=11,
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN status text;\n"
            "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';",
            pg_version=10,
        ),
        Example(
            sql="CREATE TABLE sessions (id bigint PRIMARY KEY);\n"
            "ALTER TABLE sessions ADD COLUMN status text DEFAULT 'new';",
            pg_version=10,
            note="A table created in the same migration is empty.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();",
            note="The default target version (16) adds a non-volatile default without a rewrite.",
        ),
    ),
)
