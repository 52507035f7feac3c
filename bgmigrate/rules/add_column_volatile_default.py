"""add-column-volatile-default: a volatile default is computed for every row, rewriting the table."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import AddColumn, Volatility
from bgmigrate.parse.volatility import resolve_volatility
from bgmigrate.rules.recipes import add_then_backfill


def check(op: AddColumn, ctx: Context) -> Iterator[Violation]:
    default = op.column.default
    if default is None or op.column.generated is not None or ctx.is_new_table(op.table):
        # Serial, identity and generated columns are add-generated-column's.
        return
    volatility, culprit = resolve_volatility(default, ctx.function_volatility)
    if volatility not in (Volatility.VOLATILE, Volatility.UNKNOWN):
        return
    function = f"{culprit}()" if culprit else default.sql
    message = (
        f"Adding {op.table}.{op.column.name} with DEFAULT {default.sql} rewrites {op.table} and "
        f"all its indexes under an ACCESS EXCLUSIVE lock: {function} is {_describe(volatility)}, "
        "so PostgreSQL computes it for every existing row instead of storing it once. All reads "
        f"and writes to {op.table}, from both app versions, are blocked for the whole rewrite."
    )
    if volatility is Volatility.UNKNOWN:
        message += (
            f" If {function} is declared IMMUTABLE or STABLE, suppress this finding with "
            "`-- bgmigrate: ignore add-column-volatile-default -- <why>`."
        )
    yield Violation(message=message, safe_alternative=add_then_backfill(op, default.sql))


def _describe(volatility: Volatility) -> str:
    if volatility is Volatility.VOLATILE:
        return "VOLATILE"
    return "not a built-in function known to be STABLE or IMMUTABLE (assumed VOLATILE)"


RULE = Rule(
    name="add-column-volatile-default",
    category=Category.REWRITE,
    severity=Severity.ERROR,
    summary="ADD COLUMN with a volatile DEFAULT rewrites the whole table under an exclusive lock.",
    why="""\
Since PostgreSQL 11, `ADD COLUMN … DEFAULT x` is instant when `x` is not volatile: the value is
stored once in the catalog. A VOLATILE default (`gen_random_uuid()`, `random()`,
`clock_timestamp()`, `nextval(…)`, `uuid_generate_v4()`) must give every existing row its own
value, so PostgreSQL rewrites the table and all its indexes while holding ACCESS EXCLUSIVE
(measured: a new relfilenode, three sequential scans). Every query of both app versions waits
for the rewrite. A function that is not built in is assumed volatile, unless a
`CREATE FUNCTION` (or `ALTER FUNCTION`) earlier in the run declared it STABLE or IMMUTABLE (one declared without a
volatility clause is VOLATILE, as in PostgreSQL).

`now()`, `CURRENT_TIMESTAMP` and other STABLE functions are evaluated once: they do not
rewrite and are not reported. Tables created in the same migration are not reported.""",
    safe_alternative="""\
Add the column without the default, set the default for new rows, then backfill in batches:

```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN public_id uuid;
ALTER TABLE users ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
-- then, in batches, outside the DDL transaction:
UPDATE users SET public_id = gen_random_uuid()
 WHERE id IN (SELECT id FROM users WHERE public_id IS NULL LIMIT 1000);
```

`bgmigrate plan add-column users.public_id uuid --backfill "gen_random_uuid()"` writes these
steps (add `--not-null` to finish with a NOT NULL constraint).""",
    visits=(AddColumn,),
    check=check,
    lengthens_lock=True,
    plan_command='bgmigrate plan add-column TABLE.COLUMN TYPE --backfill "EXPR"',
    flagged=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
            before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp();",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN score float8 DEFAULT random() * 10;",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN token text DEFAULT make_token();",
            note="A user-defined function's volatility is unknown: assumed volatile.",
        ),
        Example(
            sql="CREATE FUNCTION make_token() RETURNS text LANGUAGE sql\n"
            "  AS $$ SELECT md5(random()::text) $$;\n"
            "SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD COLUMN token text DEFAULT make_token();",
            note="A function created without a volatility clause is VOLATILE.",
        ),
        Example(
            sql="CREATE FUNCTION token_prefix() RETURNS text LANGUAGE sql STABLE\n"
            "  AS $$ SELECT 'tok' $$;\n"
            "CREATE SCHEMA app;\n"
            "CREATE FUNCTION app.token_prefix() RETURNS text LANGUAGE sql\n"
            "  AS $$ SELECT md5(random()::text) $$;\n"
            "SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD COLUMN token text DEFAULT app.token_prefix();",
            note="The STABLE function is public.token_prefix; app.token_prefix is VOLATILE.",
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();"
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN updated_at timestamptz DEFAULT CURRENT_TIMESTAMP;"
        ),
        Example(
            sql="SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';"
        ),
        Example(
            sql="CREATE TABLE sessions (id bigint PRIMARY KEY);\n"
            "ALTER TABLE sessions ADD COLUMN token uuid DEFAULT gen_random_uuid();",
            note="A table created in the same migration is empty.",
        ),
        Example(
            sql="CREATE FUNCTION default_plan() RETURNS text LANGUAGE sql STABLE\n"
            "  AS $$ SELECT 'free' $$;\n"
            "SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD COLUMN plan text DEFAULT default_plan();",
            note="Declared STABLE earlier in the run: PostgreSQL stores the value once.",
        ),
        Example(
            sql="CREATE FUNCTION default_plan() RETURNS text LANGUAGE sql\n"
            "  AS $$ SELECT 'free' $$;\n"
            "CREATE OR REPLACE FUNCTION default_plan() RETURNS text LANGUAGE sql IMMUTABLE\n"
            "  AS $$ SELECT 'free' $$;\n"
            "SET lock_timeout = '2s';\n"
            "ALTER TABLE users ADD COLUMN plan text DEFAULT default_plan();",
            note="`CREATE OR REPLACE` redeclares it IMMUTABLE.",
        ),
    ),
)
