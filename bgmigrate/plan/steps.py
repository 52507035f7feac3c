"""The recurring steps of a plan, each with its undo: the safe forms of index builds, NOT NULL,
constraints and column changes that `hazards.md` measured.

Each function returns `Step`s; none touches a database. Names come in as `QualifiedName` or
plain column names and are quoted here, nowhere else.
"""

from __future__ import annotations

from bgmigrate.plan.identifiers import QualifiedName, bounded_name, quote_ident
from bgmigrate.plan.model import Step

__all__ = [
    "add_column",
    "add_constraint_not_valid",
    "attach_unique",
    "create_index",
    "drop_index",
    "not_null_check_name",
    "not_null_via_check",
    "validate_constraint",
]


def add_column(
    table: QualifiedName,
    column: str,
    type_sql: str,
    default: str | None = None,
    *,
    description: str,
) -> Step:
    """`ADD COLUMN` without NOT NULL: a brief ACCESS EXCLUSIVE lock, no rewrite (a constant
    default is stored once, PostgreSQL ≥ 11)."""
    clause = f" DEFAULT {default}" if default is not None else ""
    return Step(
        sql=f"ALTER TABLE {table.sql} ADD COLUMN {quote_ident(column)} {type_sql}{clause}",
        undo=f"ALTER TABLE {table.sql} DROP COLUMN IF EXISTS {quote_ident(column)}",
        description=description,
    )


def create_index(create_sql: str, name: QualifiedName, *, description: str) -> Step:
    """A `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS` statement, outside a transaction;
    `IF NOT EXISTS` makes a retry after a crash a no-op."""
    return Step(
        sql=create_sql,
        transactional=False,
        undo=f"DROP INDEX CONCURRENTLY IF EXISTS {name.sql}",
        description=description,
    )


def drop_index(name: QualifiedName, *, description: str) -> Step:
    return Step(
        sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name.sql}",
        transactional=False,
        description=description,
    )


def attach_unique(
    table: QualifiedName, constraint: str, index: QualifiedName, *, description: str
) -> Step:
    """Turn a unique index built concurrently into a constraint: a brief lock, no scan. The
    index takes the constraint's name."""
    return Step(
        sql=f"ALTER TABLE {table.sql} ADD CONSTRAINT {quote_ident(constraint)} "
        f"UNIQUE USING INDEX {quote_ident(index.name)}",
        undo=f"ALTER TABLE {table.sql} DROP CONSTRAINT IF EXISTS {quote_ident(constraint)}",
        description=description,
    )


def add_constraint_not_valid(
    table: QualifiedName, name: str, sql: str, *, description: str
) -> Step:
    """`sql` is the full `ALTER TABLE … ADD CONSTRAINT … NOT VALID`: a brief lock, no scan."""
    return Step(
        sql=sql,
        undo=f"ALTER TABLE {table.sql} DROP CONSTRAINT IF EXISTS {quote_ident(name)}",
        description=description,
    )


def validate_constraint(
    table: QualifiedName, name: str, *, description: str, definition: str | None = None
) -> Step:
    """`VALIDATE CONSTRAINT` in its own transaction: scans under SHARE UPDATE EXCLUSIVE, which
    does not block reads or writes. Given the constraint's `definition`, the undo puts it back
    NOT VALID (a brief lock, no scan), the state before the validation."""
    undo = None
    if definition is not None:
        undo = (
            f"ALTER TABLE {table.sql} DROP CONSTRAINT {quote_ident(name)}, "
            f"ADD CONSTRAINT {quote_ident(name)} {definition} NOT VALID"
        )
    return Step(
        sql=f"ALTER TABLE {table.sql} VALIDATE CONSTRAINT {quote_ident(name)}",
        undo=undo,
        description=description,
    )


def not_null_check_name(column: str) -> str:
    return bounded_name(column, suffix="_not_null_bgm")


def not_null_via_check(table: QualifiedName, column: str) -> tuple[Step, ...]:
    """SET NOT NULL without a long lock (PostgreSQL ≥ 12): a `CHECK (c IS NOT NULL) NOT VALID`,
    its validation, then `SET NOT NULL`, which the validated check proves without a scan, and
    the check dropped."""
    check = quote_ident(not_null_check_name(column))
    name = quote_ident(column)
    return (
        Step(
            sql=f"ALTER TABLE {table.sql} ADD CONSTRAINT {check} CHECK ({name} IS NOT NULL) "
            "NOT VALID",
            undo=f"ALTER TABLE {table.sql} DROP CONSTRAINT IF EXISTS {check}",
            description=f"Check {column} IS NOT NULL for new rows (NOT VALID: no scan)",
        ),
        Step(
            sql=f"ALTER TABLE {table.sql} VALIDATE CONSTRAINT {check}",
            description=f"Prove no row has a NULL {column} (scans without blocking writes)",
        ),
        Step(
            sql=f"ALTER TABLE {table.sql} ALTER COLUMN {name} SET NOT NULL;\n"
            f"ALTER TABLE {table.sql} DROP CONSTRAINT {check}",
            undo=f"ALTER TABLE {table.sql} ALTER COLUMN {name} DROP NOT NULL",
            description=f"SET NOT NULL on {column}, proven by the validated check (no scan), "
            "and drop the check",
        ),
    )
