"""syntax-error: a statement the PostgreSQL grammar rejects."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import SyntaxErrorOp


def check(op: SyntaxErrorOp, ctx: Context) -> Iterator[Violation]:
    if op.statement.template:
        return  # template-not-parsed reports it: the tool expands the template first
    yield Violation(
        message=f"PostgreSQL cannot parse this statement: {op.message}. The migration would "
        "fail here, leaving the statements before it applied.",
        safe_alternative="Fix the statement; `psql -f FILE` against a scratch database shows "
        "the same error.",
    )


RULE = Rule(
    name="syntax-error",
    category=Category.ROBUSTNESS,
    severity=Severity.ERROR,
    summary="A statement PostgreSQL's own grammar rejects.",
    why="""\
bgmigrate parses every statement with PostgreSQL's grammar (libpg_query). A statement it
rejects fails at run time, and a migration runner that does not wrap the file in a transaction
leaves the statements before it applied: a half-migrated schema that neither app version
expects. The rest of the file is still checked.""",
    safe_alternative="""\
Fix the statement. To see the server's own message, run the file against a scratch database:
`psql -v ON_ERROR_STOP=1 -f migration.sql`.""",
    visits=(SyntaxErrorOp,),
    check=check,
    flagged=(
        Example(sql="ALTER TABLE users ADDD COLUMN x int;"),
        Example(sql="SET lock_timeout = '2s';\nCREATE INDEX ON;", line=2),
        Example(sql="CREATE TABLE t (id int;\n", line=1),
    ),
    passing=(
        Example(sql="CREATE TABLE t (id bigint PRIMARY KEY);"),
        Example(sql="SELECT 1;"),
        Example(
            sql="CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;",
        ),
    ),
)
