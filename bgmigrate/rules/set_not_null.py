"""set-not-null: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated
CHECK already proves the column has no NULLs (PostgreSQL 12+)."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import SetDefault, SetNotNull
from bgmigrate.rules.recipes import constraint_name, identifier, qualified

# PostgreSQL 12 taught SET NOT NULL to skip its scan when a valid CHECK constraint implies it.
_CHECK_SKIPS_SCAN_SINCE = 12


def check(op: SetNotNull, ctx: Context) -> Iterator[Violation]:
    if ctx.is_new_table(op.table):
        return
    proven = ctx.has_validated_not_null_check(op.table, op.column)
    if proven and ctx.pg_version >= _CHECK_SKIPS_SCAN_SINCE:
        return
    target = f"{op.table}.{op.column}"
    if proven:
        message = (
            f"On PostgreSQL {ctx.pg_version}, SET NOT NULL on {target} scans {op.table} under "
            "an ACCESS EXCLUSIVE lock even though a validated CHECK proves the column non-null "
            f"(the shortcut arrived in PostgreSQL {_CHECK_SKIPS_SCAN_SINCE}): the version still "
            f"running (blue) cannot read or write {op.table} during the scan."
        )
        safe = (
            f"Keep the validated CHECK as the constraint and leave out this SET NOT NULL until the "
            f"target is PostgreSQL {_CHECK_SKIPS_SCAN_SINCE}+."
        )
    else:
        message = (
            f"SET NOT NULL on {target} scans all of {op.table} under an ACCESS EXCLUSIVE lock: "
            f"the version still running (blue) cannot read or write {op.table} during the "
            f"scan, and afterwards {_failing_writes(op, ctx)}. No validated "
            f"CHECK ({op.column} IS NOT NULL) precedes it in this run."
        )
        safe = _check_recipe(op)
    yield Violation(message=message, safe_alternative=safe)


def _failing_writes(op: SetNotNull, ctx: Context) -> str:
    """Which of the old version's writes fail once the column is NOT NULL: with a DEFAULT,
    only explicit NULLs; without one, also the INSERTs that leave the column out."""
    known = ctx.column_default(op.table, op.column)
    default = _default_set_with(op, ctx) or (known if known is not None else op.existing_default)
    if default:
        return (
            f"only its writes of an explicit NULL to {op.column} fail (INSERTs that leave it "
            f"out get its DEFAULT {default})"
        )
    if default == "":
        return f"its writes of NULL to {op.column} fail, and so do its INSERTs that leave it out"
    return (
        f"its writes of NULL to {op.column} fail, and so do its INSERTs that leave it out "
        "unless the column has a DEFAULT"
    )


def _default_set_with(op: SetNotNull, ctx: Context) -> str | None:
    """The DEFAULT a later action of the same statement, or a later statement of the same
    transaction, gives the column: nobody sees the column NOT NULL without it."""
    here = next((i for i, other in enumerate(ctx.operations) if other is op), None)
    if here is None:
        return None
    for later in ctx.operations[here + 1 :]:
        together = later.statement is op.statement or (
            op.statement.transaction is not None
            and later.statement.transaction == op.statement.transaction
        )
        if not together:
            return None
        if (
            isinstance(later, SetDefault)
            and later.table.key == op.table.key
            and later.column == op.column
        ):
            return None if later.default.sql.strip().upper() == "NULL" else later.default.sql
    return None


def _check_recipe(op: SetNotNull) -> str:
    table, column = qualified(op.table), identifier(op.column)
    constraint = identifier(constraint_name(op.table, (op.column,), "not_null"))
    return "\n".join(
        (
            f"bgmigrate plan set-not-null {op.table}.{op.column}",
            "-- or by hand, each statement in its own transaction:",
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} "
            f"CHECK ({column} IS NOT NULL) NOT VALID;",
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};",
            f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;",
            f"ALTER TABLE {table} DROP CONSTRAINT {constraint};",
        )
    )


RULE = Rule(
    name="set-not-null",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK proves it.",
    why="""\
`ALTER TABLE … ALTER COLUMN … SET NOT NULL` checks every row while holding an ACCESS EXCLUSIVE
lock: no read or write of the table by the version still running (blue) proceeds until the scan
ends (measured on PostgreSQL 15). Afterwards, that version's writes of NULL into the column fail,
so every writer must set it before the constraint lands; its INSERTs that leave the column out
fail too unless the column has a DEFAULT, which the message names when the run declares it (or
an Alembic revision does, with `existing_server_default`).

Since PostgreSQL 12 the scan is skipped when a *validated* `CHECK (col IS NOT NULL)` constraint
already proves the column non-null; `VALIDATE CONSTRAINT` does its own scan under a SHARE UPDATE
EXCLUSIVE lock, which lets reads and writes through. bgmigrate passes `SET NOT NULL` when such a
CHECK was validated earlier in the run (or added without `NOT VALID`) and the target version is
12 or later.""",
    safe_alternative="""\
Prove the column non-null with a CHECK first, each step in its own transaction:

```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
```

`bgmigrate plan set-not-null users.email` writes this plan, with a batched backfill of the NULLs
(`--backfill EXPR`) before the validation. Before PostgreSQL 12, keep the validated CHECK as the
constraint instead of `SET NOT NULL`.""",
    visits=(SetNotNull,),
    check=check,
    plan_command="bgmigrate plan set-not-null TABLE.COLUMN",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            note="A NOT VALID check proves nothing until it is validated.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            before="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;",
            pg_version=11,
            note="Before PostgreSQL 12 the validated CHECK does not spare the scan.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            before="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;",
            note="The validated CHECK is for another column.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
            "ALTER TABLE users DROP CONSTRAINT users_email_not_null;",
            before="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            before="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;",
            pg_version=12,
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\n"
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
            "ALTER TABLE users DROP CONSTRAINT users_email_not_null;",
            note="The whole recipe in one unit, each statement in its own transaction.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN total SET NOT NULL;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_present CHECK (total IS NOT NULL);",
            note="A CHECK added without NOT VALID is validated as it is added.",
        ),
        Example(
            sql="CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric(12,2));\n"
            "ALTER TABLE invoices ALTER COLUMN total SET NOT NULL;",
            note="A table created in the same unit is used by nobody yet.",
        ),
    ),
)
