"""The SQL that the locking and rewrite rules recommend, written for the statement at hand.

A finding's safe alternative is pasteable: a `bgmigrate plan …` command first when one does the
job, then SQL statements, one per line, with `--` comments saying where each must run.
Identifiers are quoted as PostgreSQL needs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bgmigrate.parse.operations import AddColumn, AddConstraint, Name, Operation
from bgmigrate.plan.identifiers import quote_ident
from bgmigrate.source.patterns import LazyPattern

__all__ = [
    "OUTSIDE_TRANSACTION",
    "action_sql",
    "add_then_backfill",
    "column_type",
    "constraint_name",
    "identifier",
    "lines",
    "named_constraint",
    "not_valid_then_validate",
    "plain_add_column",
    "qualified",
]

OUTSIDE_TRANSACTION = (
    "-- in its own migration, outside any transaction block (no BEGIN/COMMIT; "
    "Alembic: inside op.get_context().autocommit_block()):"
)
"""Where a `CONCURRENTLY` statement must run: PostgreSQL rejects it inside a transaction."""

# `ADD` directly followed by the constraint body, i.e. an unnamed table constraint.
_UNNAMED_ADD = LazyPattern(
    r"(?i)\bADD(\s+)(?=(?:FOREIGN\s+KEY|CHECK|UNIQUE|PRIMARY\s+KEY|EXCLUDE)\b)"
)


def lines(*steps: str | Iterable[str] | None) -> str:
    """The advice's lines, in order; None and empty steps are left out."""
    flat: list[str] = []
    for step in steps:
        if isinstance(step, str):
            flat.append(step)
        elif step is not None:
            flat.extend(step)
    return "\n".join(line for line in flat if line)


def identifier(name: str) -> str:
    """`name` as it must be written in SQL: double-quoted when it is not a plain lower-case
    identifier or when it is a reserved word (a table called `user` or `order`)."""
    return quote_ident(name)


def qualified(name: Name) -> str:
    """A possibly schema-qualified name, each part quoted as needed."""
    if name.schema is None:
        return identifier(name.name)
    return f"{identifier(name.schema)}.{identifier(name.name)}"


def constraint_name(table: Name, columns: Sequence[str], suffix: str) -> str:
    """The name PostgreSQL gives an unnamed constraint (`orders_user_id_fkey`, `users_pkey`),
    to name it explicitly in the recipe: a later VALIDATE or USING INDEX must refer to it."""
    return "_".join((table.name, *columns, suffix))


def not_valid_then_validate(table: Name, constraint: str, add: str) -> str:
    """Add a constraint without scanning the table, then prove it in a later transaction.

    `add` is the `ALTER TABLE … ADD CONSTRAINT name …` statement, without `NOT VALID` and
    without its semicolon.
    """
    return lines(
        f"{add} NOT VALID;",
        "-- then in a later transaction (e.g. the next migration); the scan lets reads and "
        "writes continue:",
        f"ALTER TABLE {qualified(table)} VALIDATE CONSTRAINT {identifier(constraint)};",
    )


def action_sql(op: Operation, table: Name) -> str:
    """The SQL of `op`'s action alone, as written: the statement itself when it has one
    action, else `ALTER TABLE table <the action's text>` (clauses such as ON DELETE kept)."""
    statement = op.statement
    if op.location == statement.location:
        return statement.sql
    text = statement.sql.split("\n")
    origin = statement.location

    def offset(line: int, column: int) -> int:
        row = line - origin.line
        before = sum(len(previous) + 1 for previous in text[:row])
        return before + column - (origin.column if row == 0 else 1)

    start = offset(op.location.line, op.location.column)
    end = offset(op.location.end_line, op.location.end_column)
    return f"ALTER TABLE {qualified(table)} {statement.sql[start : end + 1]}"


def named_constraint(op: AddConstraint, name: str) -> str:
    """`op` as its own statement, with `CONSTRAINT name` written in when it had no name."""
    add = action_sql(op, op.table)
    if op.name is not None:
        return add
    return _UNNAMED_ADD.sub(rf"ADD CONSTRAINT {identifier(name)}\1", add, count=1)


def column_type(op: AddColumn) -> str:
    return str(op.column.type) if op.column.type is not None else "TYPE"


def plain_add_column(op: AddColumn, *, default: bool = True) -> str:
    """The ADD COLUMN without its inline constraints (and without its DEFAULT if asked)."""
    column = op.column
    text = (
        f"ALTER TABLE {qualified(op.table)} ADD COLUMN {identifier(column.name)} {column_type(op)}"
    )
    if default and column.default is not None:
        text += f" DEFAULT {column.default.sql}"
    if column.not_null:
        text += " NOT NULL"
    return text + ";"


def add_then_backfill(op: AddColumn, default_sql: str) -> str:
    """Add a column without a rewrite and fill the existing rows in batches instead."""
    table, column = qualified(op.table), identifier(op.column.name)
    plan = f"bgmigrate plan add-column {op.table}.{op.column.name} {column_type(op)}"
    if op.column.not_null:
        plan += " --not-null"
    return lines(
        f"{plan} --backfill {_shell_argument(default_sql)}",
        "-- or by hand: no default at first (no rewrite), then the default for new rows:",
        f"ALTER TABLE {table} ADD COLUMN {column} {column_type(op)};",
        f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default_sql};",
        f"-- then fill the existing rows in small batches, outside the DDL transaction "
        f"(UPDATE {table} SET {column} = {default_sql} WHERE {column} IS NULL, 1000 rows at a "
        "time)",
        f"-- then bgmigrate plan set-not-null {op.table}.{op.column.name}"
        if op.column.not_null
        else None,
    )


def _shell_argument(text: str) -> str:
    """`text` quoted for a POSIX shell, in double quotes when that needs no escaping (the
    usual case: SQL literals are single-quoted)."""
    if not any(character in text for character in '"$`\\!'):
        return f'"{text}"'
    import shlex  # here: shlex and the re it compiles cost every check's start

    return shlex.quote(text)
