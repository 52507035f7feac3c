"""add-generated-column: serial, identity and stored generated columns fill every existing row,
which rewrites the table."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AddColumn, Generated, Name
from bgmigrate.rules.recipes import column_type, identifier, lines, qualified

_FILLS = {
    Generated.SERIAL: "as a serial column fills every existing row from a new sequence",
    Generated.IDENTITY: "as an identity column fills every existing row from its sequence",
    Generated.STORED: "as a STORED generated column computes its expression for every existing row",
}


def check(op: AddColumn, ctx: Context) -> Iterator[Violation]:
    generated = op.column.generated
    if generated is None or ctx.is_new_table(op.table):
        return
    if generated is Generated.VIRTUAL:
        if ctx.pg_version < 18:
            yield _virtual_unavailable(op, ctx.pg_version)
        return
    table, column = op.table, op.column.name
    yield Violation(
        message=(
            f"Adding {table}.{column} {_FILLS[generated]}: PostgreSQL rewrites {table} and all "
            f"its indexes under an ACCESS EXCLUSIVE lock, and all reads and writes to {table}, "
            "from both app versions, are blocked for the whole rewrite."
        ),
        safe_alternative=(
            _computed_instead(op, ctx.pg_version)
            if generated is Generated.STORED
            else _sequence_instead(op)
        ),
    )


def _sequence_instead(op: AddColumn) -> str:
    table, column = qualified(op.table), identifier(op.column.name)
    sequence = qualified(Name(f"{op.table.name}_{op.column.name}_seq", op.table.schema))
    return lines(
        "-- a plain column (no rewrite), a sequence default for new rows, then a batched backfill:",
        f"ALTER TABLE {table} ADD COLUMN {column} {column_type(op)};",
        f"CREATE SEQUENCE {sequence} OWNED BY {table}.{column};",
        f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT nextval('{sequence}');",
        f"-- then fill the existing rows in small batches, outside the DDL transaction (UPDATE "
        f"{table} SET {column} = nextval('{sequence}') WHERE {column} IS NULL, 1000 rows at a "
        f"time), then: bgmigrate plan set-not-null {op.table}.{op.column.name}",
    )


def _computed_instead(op: AddColumn, pg_version: int) -> str:
    return lines(
        "-- a plain column (no rewrite), kept up to date by a trigger on INSERT and UPDATE, "
        "then filled in small batches:",
        f"ALTER TABLE {qualified(op.table)} ADD COLUMN {identifier(op.column.name)} "
        f"{column_type(op)};",
        "-- or, on PostgreSQL 18: GENERATED ALWAYS AS (…) VIRTUAL, computed on read, no rewrite"
        if pg_version >= 18
        else None,
    )


def _virtual_unavailable(op: AddColumn, pg_version: int) -> Violation:
    return Violation(
        message=(
            f"{op.table}.{op.column.name} is a VIRTUAL generated column, which PostgreSQL "
            f"{pg_version} does not have (they arrived in 18): the statement fails there, and "
            "its STORED form rewrites the whole table under an ACCESS EXCLUSIVE lock."
        ),
        safe_alternative=_computed_instead(op, pg_version),
    )


RULE = Rule(
    name="add-generated-column",
    category=Category.REWRITE,
    severity=Severity.ERROR,
    summary="Adding a serial, identity or stored generated column rewrites the whole table.",
    why="""\
A new column that fills itself must get a value in every existing row at once:
`serial`/`bigserial`/`smallserial` and `GENERATED … AS IDENTITY` draw one from a sequence per
row, `GENERATED ALWAYS AS (…) STORED` computes its expression per row. PostgreSQL writes a new
copy of the table and of all its indexes while holding ACCESS EXCLUSIVE (measured on 15 and
18: a new relfilenode), so every query of both app versions waits for the whole rewrite.

PostgreSQL 18's VIRTUAL generated columns (the default kind there when neither STORED nor
VIRTUAL is written) are computed on read and do not rewrite: they are not reported when the
target version is 18 or later; below 18 they do not exist. Tables created in the same
migration are not reported.""",
    safe_alternative="""\
For a sequence-filled column:

```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN number bigint;
CREATE SEQUENCE orders_number_seq OWNED BY orders.number;
ALTER TABLE orders ALTER COLUMN number SET DEFAULT nextval('orders_number_seq');
-- then, in batches, outside the DDL transaction:
UPDATE orders SET number = nextval('orders_number_seq')
 WHERE id IN (SELECT id FROM orders WHERE number IS NULL LIMIT 1000);
```

then `bgmigrate plan set-not-null orders.number`. For a computed column: a plain column kept
up to date by a trigger and backfilled in batches, or, on PostgreSQL 18, a VIRTUAL generated
column.""",
    visits=(AddColumn,),
    check=check,
    lengthens_lock=True,
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN number bigserial;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN number bigint GENERATED ALWAYS AS IDENTITY;",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN number smallserial;",
            pg_version=18,
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) VIRTUAL;",
            pg_version=17,
            note="VIRTUAL generated columns exist only from PostgreSQL 18.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) VIRTUAL;",
            pg_version=18,
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100);",
            pg_version=18,
            note="On 18, a generated column is VIRTUAL unless STORED is written.",
        ),
        Example(
            sql="CREATE TABLE invoices (id bigint PRIMARY KEY);\n"
            "ALTER TABLE invoices ADD COLUMN number bigserial;",
            note="A table created in the same migration is empty.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN number bigint;\n"
            "ALTER TABLE orders ALTER COLUMN number SET DEFAULT nextval('orders_number_seq');",
        ),
    ),
)
