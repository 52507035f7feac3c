"""change-column-type beyond its examples: what the message says about each verdict, and the
plan command it points to."""

from __future__ import annotations

from bgmigrate.check.api import check_sql
from bgmigrate.rules.change_column_type import RULE

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255), age int);"


def _finding(sql: str, before: str = USERS):
    [finding] = check_sql(sql, before=before, rules=[RULE]).findings
    return finding


def test_unknown_old_type_is_reported_as_unknown() -> None:
    finding = _finding("ALTER TABLE accounts ALTER COLUMN email TYPE text;")
    assert "current type of accounts.email is unknown" in finding.message


def test_using_clause_is_reported_even_for_a_safe_widening_and_carried_to_the_plan() -> None:
    finding = _finding("ALTER TABLE users ALTER COLUMN email TYPE text USING trim(email);")
    assert "USING trim(email)" in finding.message
    assert finding.safe_alternative.splitlines()[0] == (
        "bgmigrate plan retype users.email text --using 'trim(email)'"
    )


def test_known_rewrite_names_both_types_and_the_lock() -> None:
    finding = _finding("ALTER TABLE users ALTER COLUMN age TYPE bigint;")
    assert "users.age from integer to bigint" in finding.message
    assert "ACCESS EXCLUSIVE" in finding.message
    assert finding.safe_alternative.splitlines()[0] == "bgmigrate plan retype users.age bigint"


def test_type_known_from_an_earlier_change_in_the_run() -> None:
    sql = (
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(300);\n"
        "ALTER TABLE users ALTER COLUMN email TYPE text;"
    )
    assert check_sql(sql, before=USERS, rules=[RULE]).findings == []


def test_timestamp_to_timestamptz_explains_the_timezone_condition() -> None:
    finding = _finding(
        "ALTER TABLE events ALTER COLUMN at TYPE timestamptz;",
        before="CREATE TABLE events (id int PRIMARY KEY, at timestamp);",
    )
    assert "TimeZone is UTC" in finding.message


def test_citext_change_says_indexes_are_rebuilt_not_the_table() -> None:
    from bgmigrate.check.api import check_sql

    result = check_sql(
        "SET lock_timeout = '2s';\nALTER TABLE domains ALTER COLUMN name TYPE citext;",
        before="CREATE TABLE domains (id bigint PRIMARY KEY, name text UNIQUE);",
    )
    [finding] = result.findings
    assert "keeps the table's rows but rebuilds every index on name" in finding.message
    assert "rewrites the table" not in finding.message


VIRTUAL = "CREATE TABLE t (a int, v bigint GENERATED ALWAYS AS (a * 2) VIRTUAL);"


def _rules(sql: str, before: str = VIRTUAL, pg_version: int = 18) -> list[str]:
    result = check_sql(sql, before=before, rules=[RULE], pg_version=pg_version)
    return [f.rule for f in result.findings]


def test_a_virtual_column_is_followed_through_renames() -> None:
    renamed = VIRTUAL + "\nALTER TABLE t RENAME COLUMN v TO w;\nALTER TABLE t RENAME TO u;"
    assert _rules("ALTER TABLE u ALTER COLUMN w TYPE numeric;", renamed) == []


def test_a_column_added_back_stored_is_rewritten() -> None:
    replaced = VIRTUAL + (
        "\nALTER TABLE t DROP COLUMN v;"
        "\nALTER TABLE t ADD COLUMN v bigint GENERATED ALWAYS AS (a * 2) STORED;"
    )
    assert _rules("ALTER TABLE t ALTER COLUMN v TYPE numeric;", replaced) == [RULE.name]


def test_no_column_is_virtual_before_postgresql_18() -> None:
    assert _rules("ALTER TABLE t ALTER COLUMN v TYPE numeric;", pg_version=17) == [RULE.name]
