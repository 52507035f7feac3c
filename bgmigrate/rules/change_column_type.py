"""change-column-type: a type change rewrites the table unless it is binary-coercible."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.coercion import Coercion, coercion
from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AlterColumnType, TypeName

_CONSEQUENCE = (
    "A rewrite holds an ACCESS EXCLUSIVE lock on {table} while every row and index is "
    "rewritten: the version still running (blue) cannot read or write {table} until it is done."
)


def check(op: AlterColumnType, ctx: Context) -> Iterator[Violation]:
    if ctx.is_new_table(op.table) or ctx.is_virtual_column(op.table, op.column):
        # A VIRTUAL generated column stores no value: nothing of the table is rewritten.
        return
    old = ctx.column_type(op.table, op.column) or op.existing_type
    reason = _rewrite_reason(op, old)
    if reason is None:
        return
    plan = f"bgmigrate plan retype {op.table}.{op.column} {op.new_type}"
    if op.using_sql is not None:
        import shlex  # here: shlex and the re it compiles cost every check's start

        plan += f" --using {shlex.quote(op.using_sql)}"
    yield Violation(
        message=reason,
        safe_alternative=(
            f"{plan}\n-- adds a new {op.new_type} column kept in sync by a trigger, backfills "
            "it in batches, and swaps the columns in a contract unit."
        ),
    )


def _rewrite_reason(op: AlterColumnType, old: TypeName | None) -> str | None:
    """Why the change may rewrite the table; None when it is known to be metadata-only."""
    target = f"{op.table}.{op.column}"
    rewrite = _CONSEQUENCE.format(table=op.table)
    if op.using_sql is not None:
        return (
            f"Changing {target} to {op.new_type} with USING {op.using_sql}: bgmigrate does not "
            "analyse USING expressions, and one that computes a value rewrites the table; "
            f"assume it does. {rewrite}"
        )
    if old is None and op.table.computed:
        return (
            f"The table of {target} is the format() argument {op.table.name[1:-1]}, which "
            "bgmigrate cannot read, so the column's current type is unknown and changing it to "
            f"{op.new_type} cannot be shown to be binary-coercible; assume a rewrite. {rewrite}"
        )
    if old is None:
        return (
            f"The current type of {target} is unknown (no earlier CREATE TABLE or ADD COLUMN in "
            f"this run declares it), so changing it to {op.new_type} cannot be shown to be "
            "binary-coercible; assume a rewrite. Check this migration together with the one "
            f"that created the table to get a verdict. {rewrite}"
        )
    verdict = coercion(old, op.new_type)
    if verdict is Coercion.BINARY:
        return None
    if verdict is Coercion.INDEXES:
        return (
            f"Changing {target} from {old} to {op.new_type} keeps the table's rows but rebuilds "
            f"every index on {op.column} (they compare differently), under ACCESS EXCLUSIVE: "
            f"the version still running (blue) cannot read or write {op.table} until they are "
            "rebuilt."
        )
    if verdict is Coercion.TIMEZONE:
        return (
            f"Changing {target} from {old} to {op.new_type} is metadata-only only when the "
            "session TimeZone is UTC, which bgmigrate cannot assume; otherwise the table is "
            f"rewritten, and even under UTC the indexes on the column are rebuilt. {rewrite}"
        )
    return (
        f"Changing {target} from {old} to {op.new_type} is not known to be binary-coercible: "
        f"PostgreSQL rewrites the table. {rewrite}"
    )


RULE = Rule(
    name="change-column-type",
    category=Category.COMPAT,
    severity=Severity.ERROR,
    summary="Changing a column's type rewrites the table unless the change is binary-coercible.",
    why="""\
`ALTER TABLE … ALTER COLUMN … TYPE` holds an ACCESS EXCLUSIVE lock for as long as it takes to
rewrite every row and rebuild every index of the table, unless PostgreSQL can relabel the
column in place. The version still running (blue) cannot read or write the table meanwhile, and
it may not expect the new type (a driver decoding `int8` into a 32-bit integer).

bgmigrate passes only the changes it *knows* to be metadata-only (measured on PostgreSQL 18:
table and index files unchanged): `varchar(n)` → `text`, `varchar(m ≥ n)` or unlimited
`varchar`; `text` → unlimited `varchar`; `numeric(p, s)` → `numeric(p2 ≥ p, s)` or
unconstrained `numeric`; `varbit(n)` → `varbit(m ≥ n)` or unlimited; `cidr` → `inet`; a wider
or removed precision on `timestamp`, `timestamptz`, `time`, `timetz`; and a change to the same
type. It needs the column's current type, from an earlier `CREATE TABLE` or `ADD COLUMN` in the
same run (check the migrations directory as a whole), or else, in an Alembic revision, from
`op.alter_column(…, existing_type=…)` (in `batch_alter_table` too).

`int` → `bigint`, `float4` → `float8`, narrowing a limit, arrays, and any `USING` expression are
reported. `timestamp` → `timestamptz` is metadata-only only when the session `TimeZone` is UTC
(and even then rebuilds the column's indexes): it is reported too.

A VIRTUAL generated column (PostgreSQL 18, the kind a generated column is there unless STORED
is written) stores no values: changing its type rewrites nothing (traced), and is not reported
when the run created the column. A STORED one is rewritten like any other column.""",
    safe_alternative="""\
Change the type through a new column:

1. expand: `ALTER TABLE orders ADD COLUMN quantity_new bigint;` plus a trigger that copies
   `quantity` into `quantity_new` on every write;
2. backfill: copy `quantity` into `quantity_new` in small batches;
3. deploy: the new version reads and writes the new column;
4. contract: swap the names, drop the trigger and the old column.

`bgmigrate plan retype orders.quantity bigint` writes this plan (`--using EXPR` for a
conversion). For a known-safe widening, make sure the run includes the migration that declared
the column, or give Alembic's `alter_column` the column's `existing_type`, so its current type
is known.""",
    visits=(AlterColumnType,),
    check=check,
    plan_command="bgmigrate plan retype TABLE.COLUMN TYPE",
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN quantity TYPE bigint;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, quantity int NOT NULL);",
            note="int → bigint rewrites the table and its indexes.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email TYPE text;",
            note="No earlier statement declares users.email: its current type is unknown.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name SET DATA TYPE varchar(50);",
            before="CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100));",
            note="Narrowing checks and rewrites every row.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "ALTER TABLE users ALTER COLUMN email TYPE text USING lower(email);",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255));",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;",
            before="CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamp);",
            note="Metadata-only only under TimeZone UTC, and indexes are rebuilt even then.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,3);",
            before="CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric(10,2));",
            note="A different scale rewrites every value.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN total_cents TYPE numeric;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2),\n"
            "  total_cents bigint GENERATED ALWAYS AS (total * 100) STORED);",
            note="A STORED generated column's values are rewritten.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email TYPE text;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255));",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(200);",
            before="CREATE TABLE users (id bigint PRIMARY KEY);\n"
            "ALTER TABLE users ADD COLUMN name varchar(100);",
            note="The column's type comes from an earlier ADD COLUMN.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE prices ALTER COLUMN amount TYPE numeric(14,2);",
            before="CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric(10,2));",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE hosts ALTER COLUMN network TYPE inet;",
            before="CREATE TABLE hosts (id bigint PRIMARY KEY, network cidr);",
        ),
        Example(
            sql="CREATE TABLE counters (id int PRIMARY KEY, hits int);\n"
            "ALTER TABLE counters ALTER COLUMN hits TYPE bigint;",
            note="A table created in the same unit is used by nobody yet.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN bio TYPE varchar;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, bio text);",
            note="text and unlimited varchar share their representation.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN total_cents TYPE numeric;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2),\n"
            "  total_cents bigint GENERATED ALWAYS AS (total * 100) VIRTUAL);",
            pg_version=18,
            note="A VIRTUAL generated column (PostgreSQL 18) stores nothing to rewrite.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN total_cents TYPE numeric;",
            before="CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2));\n"
            "ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100);",
            pg_version=18,
            note="On PostgreSQL 18 a generated column is VIRTUAL unless STORED is written.",
        ),
    ),
)
