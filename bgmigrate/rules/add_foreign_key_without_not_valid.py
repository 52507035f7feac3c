"""add-foreign-key-without-not-valid: a validated foreign key blocks writes to two tables while
it checks every row."""

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
    Name,
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

_BLOCKED = "all writes (INSERT, UPDATE, DELETE)"


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    if isinstance(op, AddConstraint):
        yield from _table_constraint(op, ctx)
    elif isinstance(op, AddColumn):
        for constraint in ctx.inline_constraints(op, (ConstraintKind.FOREIGN_KEY,)):
            yield _inline(op, constraint)


def _table_constraint(op: AddConstraint, ctx: Context) -> Iterator[Violation]:
    if op.kind is not ConstraintKind.FOREIGN_KEY or op.not_valid or ctx.is_new_table(op.table):
        return
    name = op.name or constraint_name(op.table, op.columns, "fkey")
    parent = op.references or Name("?")
    yield Violation(
        message=(
            f"Adding foreign key {name} on {op.table} ({', '.join(op.columns)}) → "
            f"{_target(parent, op.referenced_columns)} checks every existing row of {op.table} "
            f"while holding SHARE ROW EXCLUSIVE locks on both {op.table} and {parent}: "
            f"{_BLOCKED} to both tables, from both app versions, are blocked for the whole scan."
        ),
        safe_alternative=lines(
            _plan(op.table, op.columns, parent, op.referenced_columns),
            "-- add it NOT VALID (brief locks, no scan):",
            not_valid_then_validate(op.table, name, named_constraint(op, name)),
        ),
    )


def _inline(op: AddColumn, constraint: InlineConstraint) -> Violation:
    column = op.column.name
    name = constraint.name or constraint_name(op.table, (column,), "fkey")
    parent = constraint.references or Name("?")
    add = (
        f"ALTER TABLE {qualified(op.table)} ADD CONSTRAINT {identifier(name)} FOREIGN KEY "
        f"({identifier(column)}) REFERENCES {_target_sql(parent, constraint.referenced_columns)}"
    )
    return Violation(
        message=(
            f"Adding {op.table}.{column} with an inline REFERENCES "
            f"{_target(parent, constraint.referenced_columns)} locks {parent} against "
            f"{_BLOCKED} (SHARE ROW EXCLUSIVE) and {op.table} against all reads and writes "
            f"(ACCESS EXCLUSIVE), and an inline REFERENCES cannot be NOT VALID: "
            f"{_checked(op, parent)}"
        ),
        safe_alternative=lines(
            _plan(op.table, (column,), parent, constraint.referenced_columns),
            "-- add the column without REFERENCES, then the foreign key NOT VALID (keep any "
            "ON DELETE / ON UPDATE clause):",
            plain_add_column(op),
            not_valid_then_validate(op.table, name, add),
        ),
    )


def _checked(op: AddColumn, parent: Name) -> str:
    """What the inline foreign key checks: every existing row when the column gets a value,
    nothing when it is NULL everywhere (then only the locks' wait matters)."""
    default = op.column.default
    if default is not None and default.sql.strip().upper() != "NULL":
        return (
            f"with DEFAULT {default.sql}, every existing row is checked while both locks are held."
        )
    return (
        f"{op.column.name} is NULL in every existing row, so nothing is checked, but while "
        f"the statement waits for both locks, every query on {op.table} and every write to "
        f"{parent} queues behind it."
    )


def _target(parent: Name, columns: tuple[str, ...]) -> str:
    return f"{parent} ({', '.join(columns)})" if columns else f"{parent} (its primary key)"


def _target_sql(parent: Name, columns: tuple[str, ...]) -> str:
    listed = f" ({', '.join(map(identifier, columns))})" if columns else ""
    return qualified(parent) + listed


def _plan(
    table: Name, columns: tuple[str, ...], parent: Name, referenced: tuple[str, ...]
) -> str | None:
    if len(columns) != 1 or len(referenced) != 1:
        return None
    return f"bgmigrate plan add-foreign-key {table}.{columns[0]} {parent}.{referenced[0]}"


RULE = Rule(
    name="add-foreign-key-without-not-valid",
    category=Category.LOCKING,
    severity=Severity.ERROR,
    summary="Adding a validated foreign key blocks writes to both tables while every row is checked.",
    why="""\
`ALTER TABLE orders ADD … FOREIGN KEY (user_id) REFERENCES users` takes SHARE ROW EXCLUSIVE
locks on **both** tables (since 9.5; ACCESS EXCLUSIVE before) and, in the same statement,
scans `orders` and looks every value up in `users` (measured). For the whole check, every
INSERT, UPDATE and DELETE on `orders` and on `users` from both app versions waits.

An inline `REFERENCES` on `ADD COLUMN` is reported too: it also locks the referenced table,
and it cannot be written `NOT VALID`.

Added `NOT VALID`, the constraint is enforced for new writes at once but existing rows are not
checked: the locks last an instant. `VALIDATE CONSTRAINT` later checks the existing rows under
SHARE UPDATE EXCLUSIVE on `orders` and ROW SHARE on `users`, which let reads and writes
continue. Foreign keys on tables created in the same migration are not reported by this rule.""",
    safe_alternative="""\
1. Add the constraint `NOT VALID` (brief lock, no scan):

   ```sql
   SET lock_timeout = '2s';
   ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
     FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
   ```
2. In a later transaction (a separate migration, e.g. the backfill phase), validate it:

   ```sql
   ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;
   ```

`bgmigrate plan add-foreign-key orders.user_id users.id` writes both migrations.""",
    visits=(AddConstraint, AddColumn),
    check=check,
    lengthens_lock=True,
    plan_command="bgmigrate plan add-foreign-key TABLE.COLUMN REF_TABLE.COLUMN",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);",
            before="CREATE TABLE users (id bigint PRIMARY KEY);\n"
            "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users ON DELETE CASCADE;",
            note="Unnamed: the advice names it, since VALIDATE needs the name.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);",
            note="An inline REFERENCES cannot be NOT VALID.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders\n  ADD COLUMN shop_id bigint,\n"
            "  ADD CONSTRAINT orders_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES shops (id);",
            line=4,
            note="Reported at its own action of a multi-action ALTER TABLE.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
        ),
        Example(sql="ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;"),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));",
            note="A new table referencing an existing one: there are no rows to check.",
        ),
        Example(
            sql="CREATE TABLE shops (id bigint PRIMARY KEY);\n"
            "CREATE TABLE products (id bigint PRIMARY KEY, shop_id bigint);\n"
            "ALTER TABLE products ADD CONSTRAINT products_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES shops (id);",
            note="A foreign key between tables created in the same migration locks nothing in use.",
        ),
    ),
)
