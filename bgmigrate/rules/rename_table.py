"""rename-table: a table rename breaks whichever app version still uses the old name."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Name, RenameTable
from bgmigrate.rules.recipes import identifier, qualified


def check(op: RenameTable, ctx: Context) -> Iterator[Violation]:
    if ctx.is_new_table(op.table):
        return
    old, renamed = qualified(op.table), qualified(Name(op.new_name, op.table.schema))
    yield Violation(
        message=(
            f"Renaming table {op.table} to {op.new_name} breaks the version still running "
            f"(blue): its queries name {op.table} and fail with UndefinedTable once the rename "
            "has run, while the new version's queries fail before it."
        ),
        safe_alternative=(
            f"bgmigrate plan rename {op.table} {op.new_name}\n"
            "-- or rename and keep the old name as a view (drop it in a contract unit):\n"
            "BEGIN;\n"
            "SET LOCAL lock_timeout = '2s';\n"
            "-- bgmigrate: ignore rename-table -- the view keeps the old name working\n"
            f"ALTER TABLE {old} RENAME TO {identifier(op.new_name)};\n"
            f"CREATE VIEW {old} AS SELECT * FROM {renamed};\n"
            "COMMIT;"
        ),
    )


RULE = Rule(
    name="rename-table",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="Renaming a table breaks the app version that still uses the old name.",
    why="""\
`ALTER TABLE … RENAME TO` is instant (a brief ACCESS EXCLUSIVE lock), but during a blue-green
deploy two app versions share the database. After the rename, every query of the old version
(blue) that names the table fails with `UndefinedTable` (measured); before it, the new version's
queries fail. No phase makes a bare rename safe. Index, constraint and sequence renames
(`ALTER INDEX … RENAME`) are not table renames and are not reported.""",
    safe_alternative="""\
Rename and keep the old name working through a view, in one transaction: PostgreSQL makes a
simple `SELECT *` view auto-updatable, so the old version's SELECT, INSERT and UPDATE keep
working (measured):

```sql
SET lock_timeout = '2s';
BEGIN;
-- bgmigrate: ignore rename-table -- the view keeps the old name working
ALTER TABLE users RENAME TO customers;
CREATE VIEW users AS SELECT * FROM customers;
COMMIT;
```

The check cannot see the view when it judges the rename, hence the ignore tag. Drop the view
in a contract unit once the old version is retired (`DROP VIEW users;`).
`bgmigrate plan rename users customers` writes this plan.""",
    visits=(RenameTable,),
    check=check,
    plan_command="bgmigrate plan rename TABLE NEW_NAME",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users RENAME TO customers;",
            before="CREATE TABLE users (id bigint PRIMARY KEY);",
        ),
        Example(
            sql="-- bgmigrate: phase=contract\nALTER TABLE public.users RENAME TO customers;",
            line=2,
            note="A contract unit does not make a rename safe: the new version names the new table.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE IF EXISTS billing.invoices\n  RENAME TO bills;",
            line=2,
        ),
    ),
    passing=(
        Example(
            sql="CREATE TABLE staging_users (id bigint PRIMARY KEY);\n"
            "ALTER TABLE staging_users RENAME TO users_v2;",
            note="A table created in the same unit is used by nobody yet.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER INDEX users_email_idx RENAME TO users_email_key;"
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE users RENAME CONSTRAINT users_email_check TO users_email_format;",
        ),
        Example(sql="ALTER SEQUENCE users_id_seq RENAME TO customers_id_seq;"),
    ),
)
