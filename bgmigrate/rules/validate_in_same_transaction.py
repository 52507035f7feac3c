"""validate-in-same-transaction: VALIDATE right after the NOT VALID add, in one transaction,
keeps the add's lock through the whole validation scan."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AddConstraint, ConstraintKind, ValidateConstraint
from bgmigrate.rules.recipes import identifier, lines, qualified


def check(op: ValidateConstraint, ctx: Context) -> Iterator[Violation]:
    current = ctx.statement.transaction if ctx.statement else None
    added = ctx.not_valid_add(op.table, op.name)
    if current is None or added is None or ctx.is_new_table(op.table):
        return
    if added.statement.transaction != current:
        return
    held, blocked = _held_lock(added)
    yield Violation(
        message=(
            f"VALIDATE CONSTRAINT {op.name} on {op.table} runs in the same transaction as its "
            f"ADD … NOT VALID on line {added.location.line}. That add's {held} until COMMIT: "
            f"{blocked}, from both app versions, stay blocked for the whole validation scan, "
            "just as if NOT VALID had not been used."
        ),
        safe_alternative=lines(
            "-- COMMIT after the NOT VALID add, then validate in a later transaction (e.g. a "
            "backfill-phase migration), where it takes only SHARE UPDATE EXCLUSIVE and reads "
            "and writes continue during the scan:",
            f"ALTER TABLE {qualified(op.table)} VALIDATE CONSTRAINT {identifier(op.name)};",
        ),
    )


def _held_lock(added: AddConstraint) -> tuple[str, str]:
    """The lock the NOT VALID add took, and what it blocks."""
    if added.kind is ConstraintKind.FOREIGN_KEY and added.references is not None:
        return (
            f"SHARE ROW EXCLUSIVE locks on {added.table} and {added.references} are held",
            "all writes to both tables",
        )
    return (
        f"ACCESS EXCLUSIVE lock on {added.table} is held",
        f"all reads and writes to {added.table}",
    )


RULE = Rule(
    name="validate-in-same-transaction",
    category=Category.LOCKING,
    severity=Severity.WARNING,
    summary="VALIDATE CONSTRAINT in the transaction that added it NOT VALID holds the add's lock through the scan.",
    why="""\
`ADD CONSTRAINT … NOT VALID` is the safe first half of adding a CHECK or FOREIGN KEY: it
takes its lock (ACCESS EXCLUSIVE for a CHECK; SHARE ROW EXCLUSIVE on both tables for a
FOREIGN KEY) only for an instant because it skips the scan. The second half,
`VALIDATE CONSTRAINT`, scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and
writes continue. But locks are held until the end of the transaction: when both halves run in
one transaction block (an explicit `BEGIN`, a runner that wraps the file, an Alembic
revision), the add's lock is still held during the whole validation scan, and the old (blue)
app is blocked exactly as if NOT VALID had not been used (all versions).

Only a validation in the same transaction block as this migration's own NOT VALID add is
reported; separate transactions or autocommit pass.""",
    safe_alternative="""\
Validate in a later transaction, normally a separate migration:

```sql
-- 0007_expand.sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;

-- 0008_backfill.sql   (bgmigrate: phase=backfill)
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
```""",
    visits=(ValidateConstraint,),
    check=check,
    flagged=(
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;\nCOMMIT;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);",
            line=4,
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;",
            assume_in_transaction=True,
            note="The runner wraps the whole file in one transaction.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "ALTER TABLE public.orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
            "SELECT 1;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;\nCOMMIT;",
            line=5,
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;",
            note="In autocommit each statement is its own transaction.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
            "COMMIT;\nBEGIN;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;\nCOMMIT;",
        ),
        Example(
            sql="ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;",
            before="ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;",
            assume_in_transaction=True,
            note="Added NOT VALID by an earlier migration: that lock was released long ago.",
        ),
    ),
)
