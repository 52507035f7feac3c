"""add-not-null-column-without-default: the old app's INSERTs do not name the new column."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AddColumn, ColumnDefinition
from bgmigrate.rules.recipes import column_type, identifier, qualified
from bgmigrate.source.unit import Phase


def check(op: AddColumn, ctx: Context) -> Iterator[Violation]:
    column = op.column
    # Serial, identity and generated columns fill themselves (add-generated-column's concern).
    if ctx.is_new_table(op.table) or column.generated is not None:
        return
    # not_null is also set for an inline PRIMARY KEY.
    if not column.not_null or _has_value_default(column):
        return
    table, name, type_sql = qualified(op.table), identifier(column.name), column_type(op)
    target = f"{op.table}.{column.name}"
    if op.identity_added_later:
        yield _identity_added_later(op, target, f"{table} ADD COLUMN {name} {type_sql}")
        return
    yield Violation(
        message=(
            f"Adding {target} as NOT NULL without a DEFAULT fails on a table that has rows "
            f"(NotNullViolation), and where it succeeds it breaks the version still running "
            f"(blue): its INSERTs into {op.table} that do not name {column.name} are rejected."
        ),
        safe_alternative=(
            f"Add it nullable (`ALTER TABLE {table} ADD COLUMN {name} {type_sql};`), "
            "deploy code that writes it, backfill in batches, then set NOT NULL through a "
            f"validated CHECK: `bgmigrate plan add-column {target} {type_sql} --not-null "
            "--backfill EXPR`. Or keep a constant default through the expand phase: "
            f"`ALTER TABLE {table} ADD COLUMN {name} {type_sql} NOT NULL DEFAULT <value>;`."
        ),
    )


def _identity_added_later(op: AddColumn, target: str, add_column_sql: str) -> Violation:
    # Traced on PostgreSQL 18: NotNullViolation on a table with rows; on an empty one the
    # old version's INSERTs get the identity's values, so only the existing rows are at stake.
    return Violation(
        message=(
            f"Adding {target} as NOT NULL and making it an identity later in the same "
            f"statement fails on a table that has rows (NotNullViolation): the identity fills "
            f"the rows inserted afterwards, not the ones {op.table} already has."
        ),
        safe_alternative=(
            "Declare the identity in the column's definition, which fills the existing rows "
            f"(`ALTER TABLE {add_column_sql} GENERATED ALWAYS AS IDENTITY;`); it rewrites the "
            "table under an ACCESS EXCLUSIVE lock, which add-generated-column reports."
        ),
    )


def _has_value_default(column: ColumnDefinition) -> bool:
    # `DEFAULT NULL` fills nothing: the column is still required from every INSERT.
    return column.default is not None and column.default.sql.strip().upper() != "NULL"


RULE = Rule(
    name="add-not-null-column-without-default",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="A NOT NULL column without a DEFAULT rejects the old app's INSERTs.",
    why="""\
`ALTER TABLE … ADD COLUMN … NOT NULL` with no `DEFAULT` cannot fill the existing rows: on a
table with rows it fails with `NotNullViolation` (after waiting for an ACCESS EXCLUSIVE lock and
scanning the table). Where it succeeds (an empty table), the version still running (blue) does
not know the column: every one of its INSERTs omits it and fails with `NotNullViolation`
(measured on PostgreSQL 15 and 18). This holds in every phase and every PostgreSQL version.

A constant or STABLE default (`DEFAULT 0`, `DEFAULT ''`, `DEFAULT now()`) fills old rows and old
INSERTs alike and, since PostgreSQL 11, is metadata-only. Serial, identity and generated columns
fill themselves; `add-generated-column` reports their rewrite. An identity added to the new
column by a later action of the same statement (`ADD COLUMN id bigint NOT NULL, ALTER COLUMN id
ADD GENERATED ALWAYS AS IDENTITY`) fills only the rows inserted afterwards: on a table with rows
the statement fails with `NotNullViolation` (traced on PostgreSQL 18), so it is reported, with
the identity declared in the column's definition as the way that fills them.""",
    safe_alternative="""\
Either keep a database default through the expand phase (drop it, if ever, in a contract unit):

```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';
```

or add the column nullable and make it NOT NULL once every row and every writer has a value:

1. expand: `ALTER TABLE users ADD COLUMN phone text;`
2. deploy code that writes `phone`; backfill old rows in batches;
3. `ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL) NOT VALID;`
4. `ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null;`
5. `ALTER TABLE users ALTER COLUMN phone SET NOT NULL;` (PostgreSQL 12+ skips the scan), then
   `ALTER TABLE users DROP CONSTRAINT users_phone_not_null;`

`bgmigrate plan add-column users.phone text --not-null --backfill "''"` writes the second plan.""",
    visits=(AddColumn,),
    check=check,
    plan_command="bgmigrate plan add-column TABLE.COLUMN TYPE --not-null --backfill EXPR",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN phone text NOT NULL;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;",
            line=2,
            note="No phase makes it safe: the table's existing rows have no value.",
        ),
        Example(
            sql="ALTER TABLE users ADD COLUMN phone text DEFAULT NULL NOT NULL;",
            note="DEFAULT NULL fills nothing.",
        ),
        Example(
            sql="ALTER TABLE orders\n  ADD COLUMN note text,\n  ADD COLUMN status varchar(20) NOT NULL;",
            line=3,
            note="Reported at the offending action of a multi-action ALTER TABLE.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users\n  ADD COLUMN number bigint NOT NULL,\n"
            "  ALTER COLUMN number ADD GENERATED ALWAYS AS IDENTITY;",
            line=3,
            note="The identity fills only the rows inserted after the statement: it fails on a "
            "table with rows.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';"
        ),
        Example(sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN phone text;"),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();",
            note="now() is STABLE: one value for the whole statement, no rewrite since PostgreSQL 11.",
        ),
        Example(
            sql="CREATE TABLE invoices (id bigint PRIMARY KEY);\n"
            "ALTER TABLE invoices ADD COLUMN total numeric(12,2) NOT NULL;",
            note="A table created in the same unit is used by nobody yet.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD COLUMN priority smallint NOT NULL DEFAULT 0;",
            phase=Phase.CONTRACT,
        ),
    ),
)
