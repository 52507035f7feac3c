"""add-not-null-column-without-default beyond its examples: self-filling columns are left to
add-generated-column, and the advice names the column and its type."""

from __future__ import annotations

import pytest

from bgmigrate.check.api import check_sql
from bgmigrate.rules.add_not_null_column_without_default import RULE


def _findings(sql: str):
    return check_sql(sql, rules=[RULE]).findings


@pytest.mark.parametrize(
    "column",
    [
        "id bigserial NOT NULL",
        "id bigint GENERATED ALWAYS AS IDENTITY NOT NULL",
        "total numeric GENERATED ALWAYS AS (price * quantity) STORED NOT NULL",
    ],
)
def test_columns_that_fill_themselves_are_not_reported(column: str) -> None:
    assert _findings(f"ALTER TABLE orders ADD COLUMN {column};") == []


def test_inline_primary_key_without_default_is_reported() -> None:
    [finding] = _findings("ALTER TABLE orders ADD COLUMN code text PRIMARY KEY;")
    assert "orders.code" in finding.message


def test_advice_names_table_column_and_type() -> None:
    [finding] = _findings("ALTER TABLE users ADD COLUMN phone varchar(20) NOT NULL;")
    assert "users.phone" in finding.message
    assert "INSERTs into users that do not name phone are rejected" in finding.message
    assert "ALTER TABLE users ADD COLUMN phone varchar(20);" in finding.safe_alternative
    assert (
        "bgmigrate plan add-column users.phone varchar(20) --not-null" in finding.safe_alternative
    )


def test_reserved_word_table_is_quoted_in_the_advice() -> None:
    [finding] = _findings('ALTER TABLE "user" ADD COLUMN phone text NOT NULL;')
    assert 'ALTER TABLE "user" ADD COLUMN phone text;' in finding.safe_alternative


def test_an_identity_added_later_in_the_statement_is_reported_as_failing_on_rows() -> None:
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN f2 bigint NOT NULL,\n"
        "  ALTER COLUMN f2 ADD GENERATED ALWAYS AS IDENTITY;"
    )
    [finding] = _findings(sql)
    assert finding.rule == "add-not-null-column-without-default"
    assert "fails on a table that has rows (NotNullViolation)" in finding.message
    assert "breaks the version still running" not in finding.message
    assert "ALTER TABLE users ADD COLUMN f2 bigint GENERATED ALWAYS AS IDENTITY;" in (
        finding.safe_alternative
    )


def test_an_identity_added_to_another_column_changes_nothing() -> None:
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN f2 bigint NOT NULL,\n"
        "  ALTER COLUMN f3 ADD GENERATED ALWAYS AS IDENTITY;"
    )
    [finding] = _findings(sql)
    assert "breaks the version still running" in finding.message
