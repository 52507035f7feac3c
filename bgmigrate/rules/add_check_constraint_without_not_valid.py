"""add-check-constraint-without-not-valid: a validated CHECK scans the table under an exclusive lock."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import (
    AddColumn,
    AddConstraint,
    ConstraintKind,
    InlineConstraint,
    Operation,
)
from bgmigrate.rules.recipes import (
    constraint_name,
    identifier,
    lines,
    named_constraint,
    not_valid_then_validate,
    plain_add_column,
    qualified,
)


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    if isinstance(op, AddConstraint):
        yield from _table_constraint(op, ctx)
    elif isinstance(op, AddColumn):
        for constraint in ctx.inline_constraints(op, (ConstraintKind.CHECK,)):
            yield _inline(op, constraint)


def _table_constraint(op: AddConstraint, ctx: Context) -> Iterator[Violation]:
    if op.kind is not ConstraintKind.CHECK or op.not_valid or ctx.is_new_table(op.table):
        return
    name = op.name or constraint_name(op.table, op.columns, "check")
    yield Violation(
        message=(
            f"Adding CHECK constraint {name} ({op.check_sql}) on {op.table} scans every "
            f"existing row while holding an ACCESS EXCLUSIVE lock on {op.table}: all reads and "
            f"writes to {op.table}, from both app versions, are blocked for the whole scan."
        ),
        safe_alternative=lines(
            "-- add it NOT VALID (brief lock, no scan):",
            not_valid_then_validate(op.table, name, named_constraint(op, name)),
        ),
    )


def _inline(op: AddColumn, constraint: InlineConstraint) -> Violation:
    column = op.column.name
    name = constraint.name or constraint_name(op.table, (column,), "check")
    add = (
        f"ALTER TABLE {qualified(op.table)} ADD CONSTRAINT {identifier(name)} "
        f"CHECK ({constraint.check_sql})"
    )
    return Violation(
        message=(
            f"Adding {op.table}.{column} with an inline CHECK ({constraint.check_sql}) checks "
            f"every existing row while ADD COLUMN holds an ACCESS EXCLUSIVE lock on {op.table}: "
            f"all reads and writes to {op.table}, from both app versions, are blocked for the "
            "whole scan, and an inline CHECK cannot be NOT VALID."
        ),
        safe_alternative=lines(
            "-- add the column without its CHECK, then the constraint NOT VALID (brief lock, "
            "no scan):",
            plain_add_column(op),
            not_valid_then_validate(op.table, name, add),
        ),
    )


RULE = Rule(
    name="add-check-constraint-without-not-valid",
    category=Category.LOCKING,
    severity=Severity.ERROR,
    summary="Adding a validated CHECK constraint blocks all access to the table while every row is checked.",
    why="""\
`ALTER TABLE … ADD [CONSTRAINT …] CHECK (…)` takes ACCESS EXCLUSIVE on the table and, in the
same statement, scans every row to prove the condition (measured). For the whole scan every
SELECT, INSERT, UPDATE and DELETE of both app versions waits (all versions).

A CHECK written inline on `ADD COLUMN` (`ADD COLUMN qty int CHECK (qty > 0)`) is reported
too: it is validated against every existing row in the same way (measured: one sequential
scan even though the new column is NULL everywhere), and it cannot be written `NOT VALID`.

Added `NOT VALID`, the constraint is enforced for new writes at once and the lock lasts an
instant; `VALIDATE CONSTRAINT` later checks the existing rows under SHARE UPDATE EXCLUSIVE,
which lets reads and writes continue. Make sure the old app version never writes rows that
violate the condition before adding it. Tables created in the same migration are not
reported.""",
    safe_alternative="""\
1. Add the constraint `NOT VALID` (brief lock, no scan):

   ```sql
   SET lock_timeout = '2s';
   ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
   ```
2. In a later transaction (a separate migration, e.g. the backfill phase), validate it:

   ```sql
   ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
   ```

For a new column, add it without the inline CHECK first, then do the two steps above.""",
    visits=(AddConstraint, AddColumn),
    check=check,
    lengthens_lock=True,
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD CHECK (total >= 0);",
            note="Unnamed: the advice names it, since VALIDATE needs the name.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN quantity int CHECK (quantity > 0);",
            note="An inline CHECK on ADD COLUMN is validated against every row and cannot be NOT VALID.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL);",
            note="The first step of the SET NOT NULL recipe must be NOT VALID too.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;",
        ),
        Example(sql="ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;"),
        Example(
            sql="CREATE TABLE line_items (id bigint PRIMARY KEY, quantity int);\n"
            "ALTER TABLE line_items ADD CONSTRAINT line_items_quantity_positive CHECK (quantity > 0);\n"
            "ALTER TABLE line_items ADD COLUMN price numeric CHECK (price >= 0);",
            note="A table created in the same migration is empty.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD COLUMN discount numeric CHECK (discount >= 0) NOT ENFORCED;",
            pg_version=18,
            note="A NOT ENFORCED check (PostgreSQL 18) reads no row (traced).",
        ),
    ),
)
