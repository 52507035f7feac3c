"""alter-enum-rename-value: renaming an enum label breaks the app version that uses the old one."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AlterEnum, AlterEnumAction
from bgmigrate.rules.recipes import qualified


def check(op: AlterEnum, ctx: Context) -> Iterator[Violation]:
    if op.action is not AlterEnumAction.RENAME_VALUE or ctx.is_new_object("type", op.type):
        return
    old, new = _literal(op.value), _literal(op.new_value or "")
    yield Violation(
        message=(
            f"Renaming {old} of enum {op.type} to {new} breaks the version still running "
            f"(blue): its writes of {old} fail with invalid input value for enum {op.type}, "
            f"and its reads no longer find rows by {old}."
        ),
        safe_alternative=(
            f"ALTER TYPE {qualified(op.type)} ADD VALUE IF NOT EXISTS {new};\n"
            f"-- then deploy code that accepts both {old} and {new} and writes {new}, move the "
            f"rows from {old} to {new} in batches, and keep {old} (PostgreSQL cannot drop an "
            "enum value without recreating the type)."
        ),
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


RULE = Rule(
    name="alter-enum-rename-value",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="Renaming an enum value breaks the app version that still uses the old label.",
    why="""\
`ALTER TYPE … RENAME VALUE` (PostgreSQL 10+) is instant and changes every stored row at once:
the label is renamed in the catalog, so the version still running (blue) fails on its next
write of the old label (`invalid input value for enum`) and its queries filtering on it find
nothing, while before the rename the new version fails the same way. No phase makes it safe.
`ADD VALUE` is harmless to the running version; enum types created in the same unit are exempt.""",
    safe_alternative="""\
Add the new label and move to it, keeping the old one:

1. expand: `ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'cancelled';`
2. deploy code that reads both `'canceled'` and `'cancelled'` and writes `'cancelled'`;
3. backfill: `UPDATE orders SET status = 'cancelled' WHERE status = 'canceled'`, in small
   batches from a job outside the migration.

PostgreSQL cannot drop an enum value; to get rid of the old label, recreate the type (new type,
new column, backfill, swap), or use a lookup table or `text` with a `CHECK` instead of an enum.""",
    visits=(AlterEnum,),
    check=check,
    flagged=(
        Example(
            sql="ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';",
            before="CREATE TYPE order_status AS ENUM ('pending', 'shipped', 'canceled');",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nALTER TYPE public.mood RENAME VALUE 'meh' TO 'neutral';",
            line=2,
            note="A contract unit does not make it safe: the new version writes the new label.",
        ),
        Example(
            sql="ALTER TYPE mood ADD VALUE 'ecstatic';\nALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy';",
            note="Reported at the rename, not at the harmless ADD VALUE.",
        ),
    ),
    passing=(
        Example(sql="ALTER TYPE order_status ADD VALUE 'refunded';"),
        Example(sql="ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'on_hold' BEFORE 'shipped';"),
        Example(
            sql="CREATE TYPE ticket_state AS ENUM ('open', 'closd');\n"
            "ALTER TYPE ticket_state RENAME VALUE 'closd' TO 'closed';",
            note="A type created in the same unit is used by nobody yet.",
        ),
    ),
)
