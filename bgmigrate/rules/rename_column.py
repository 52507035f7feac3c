"""rename-column: a column rename breaks whichever app version still names the old column."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import RenameColumn


def check(op: RenameColumn, ctx: Context) -> Iterator[Violation]:
    if ctx.is_new_table(op.table):
        return
    yield Violation(
        message=(
            f"Renaming {op.table}.{op.column} to {op.new_name} breaks the version still running "
            f"(blue): its queries name {op.column}, and the new version's queries fail until "
            "the rename has run."
        ),
        safe_alternative=f"bgmigrate plan rename {op.table}.{op.column} {op.new_name}",
    )


RULE = Rule(
    name="rename-column",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="Renaming a column breaks the app version that still uses the old name.",
    why="""\
`ALTER TABLE … RENAME COLUMN` is instant (a brief ACCESS EXCLUSIVE lock), but during a
blue-green deploy two app versions share the database. Before the rename, the new version's
queries fail; after it, every SELECT, INSERT and UPDATE of the old version that names the
column fails with `UndefinedColumn` (measured). No phase makes a rename safe: it breaks
whichever version does not know the name.""",
    safe_alternative="""\
Expand and contract instead of renaming in place:

1. expand: `ALTER TABLE users ADD COLUMN email_address varchar(255);` plus a trigger that
   keeps `email` and `email_address` equal on every write (dual write);
2. backfill: copy `email` into `email_address` in small batches;
3. deploy: the new version reads and writes `email_address`;
4. contract (after the old version is retired): drop the trigger and `email`.

`bgmigrate plan rename users.email email_address` writes this plan, carrying along the
column's indexes, constraints, NOT NULL and default.""",
    visits=(RenameColumn,),
    check=check,
    plan_command="bgmigrate plan rename TABLE.COLUMN NEW_NAME",
    flagged=(
        Example(
            sql="ALTER TABLE users RENAME COLUMN email TO email_address;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(
            sql="ALTER TABLE users RENAME email TO email_address;",
            note="The COLUMN keyword is optional; Alembic's alter_column(new_column_name=…) "
            "emits this form.",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nALTER TABLE public.users RENAME COLUMN email TO email_address;",
            phase=None,
            line=2,
            note="A contract unit does not make a rename safe: the new version names the new column.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users\n  RENAME COLUMN email TO email_address;",
            line=2,
        ),
    ),
    passing=(
        Example(
            sql="CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
            "ALTER TABLE users RENAME COLUMN email TO email_address;",
            note="A table created in the same unit is used by nobody yet.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER INDEX users_email_idx RENAME TO users_email_key;"
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN email_address varchar(255);",
        ),
    ),
)
