"""The planner refuses what PostgreSQL would refuse, before it writes a plan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bgmigrate.parse.operations import TypeName
from bgmigrate.plan.expressions import parse_type
from bgmigrate.plan.literals import check_constant_fits
from bgmigrate.plan.model import PlanError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCHEMA = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, quantity integer NOT NULL);
"""


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    """A live database with user-defined types, read by `--dsn` (no replay: fast)."""
    name = "bgmigrate_refusals"
    with psycopg.connect(pg_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    database = psycopg.conninfo.make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute(SCHEMA)
    return database


def _plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgmigrate", "plan", *args, "--format", "text"],
        capture_output=True,
        text=True,
    )


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    return result.stderr


def test_a_type_postgresql_does_not_have_is_refused_against_the_replayed_schema() -> None:
    # The wall as the user hit it: a plan (exit 0) with a type PostgreSQL does not have.
    migrations = FIXTURES / "sql_app/migrations"
    result = _plan("retype", "orders.quantity", "biggint", "--schema-from", str(migrations))
    assert _refused(result).endswith(
        f"type 'biggint' does not exist in the schema read from {migrations}: "
        "did you mean bigint?\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add-column", "users.age", "integr"], "did you mean integer?"),
        (["add-column", "users.feeling", "moood"], "did you mean mood?"),
        (
            ["rename", "users.emial", "mail"],
            "table public.users has no column 'emial' (did you mean email? it has id, email, name)",
        ),
        (["rename", "usres.email", "mail"], "(did you mean users?)"),
        (["rename", "users.email", "email"], "public.users.email is already called that"),
        (
            ["add-column", "users.age", "integer", "--not-null", "--backfill", "'abc'"],
            "--backfill 'abc' is not a valid integer",
        ),
        (
            ["add-column", "users.ok", "boolean", "--not-null", "--backfill", "0"],
            "--backfill 0 is a number and the column is boolean",
        ),
        (["set-not-null", "users.name", "--backfill", "0"], None),
    ],
)
def test_the_planner_refuses_in_one_line_with_exit_two(
    dsn: str, args: list[str], message: str | None
) -> None:
    result = _plan(*args, "--dsn", dsn)
    if message is None:  # a number into a text column: PostgreSQL takes it
        assert result.returncode == 0, result.stderr
    else:
        assert message in _refused(result)


def test_user_defined_types_of_the_schema_are_known(dsn: str) -> None:
    for column, type_ in (("feeling", "mood"), ("score", "public.positive"), ("tags", "mood[]")):
        result = _plan("add-column", f"users.{column}", type_, "--dsn", dsn)
        assert result.returncode == 0, result.stderr


CASES = [
    ("integer", "'abc'"),
    ("integer", "'42'"),
    ("integer", "' 7 '"),
    ("smallint", "'40000'"),
    ("bigint", "'9223372036854775807'"),
    ("numeric", "'1.5e3'"),
    ("double precision", "'NaN'"),
    ("numeric", "'one'"),
    ("boolean", "'yes'"),
    ("boolean", "'maybe'"),
    ("boolean", "0"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
    ("uuid", "'not-a-uuid'"),
    ("jsonb", "'{\"a\": 1}'"),
    ("jsonb", "'{a: 1}'"),
    ("jsonb", "1"),
    ("text", "1"),
    ("timestamptz", "0"),
    ("positive", "5"),
]


@pytest.mark.parametrize(("type_", "value"), CASES)
def test_constants_are_refused_exactly_when_postgresql_refuses_them(
    fresh_db: str, type_: str, value: str
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)")
        connection.execute(f"CREATE TABLE t (c {type_})")
        connection.execute("INSERT INTO t VALUES (NULL)")
        try:
            connection.execute(f"UPDATE t SET c = {value}")
            postgres_refuses = False
        except psycopg.Error:
            postgres_refuses = True
    parsed: TypeName = parse_type(type_)
    try:
        check_constant_fits(value, parsed, "--backfill")
        planner_refuses = False
    except PlanError:
        planner_refuses = True
    assert planner_refuses == postgres_refuses


def test_expressions_are_left_to_postgresql() -> None:
    check_constant_fits("now()", parse_type("integer"), "--backfill")  # PostgreSQL judges it
