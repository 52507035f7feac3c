"""DO blocks: the statements a PL/pgSQL body runs are checked at their own line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgmigrate.check.api import check_sql
from bgmigrate.check.runner import CheckOptions, run_check

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "do_blocks"


def _located(sql: str, before: str = "") -> list[tuple[str, int, int]]:
    return [
        (f.rule, f.location.line, f.location.column) for f in check_sql(sql, before=before).findings
    ]


def test_the_fixture_reports_every_risky_statement_of_the_block_at_its_line() -> None:
    result = run_check(CheckOptions(paths=(str(FIXTURE),), cwd=FIXTURE))
    found = [(f.location.line, f.location.column, f.rule, f.message) for f in result.findings]
    assert [(line, column, rule) for line, column, rule, _ in found] == [
        (12, 5, "rename-column"),
        (17, 11, "change-column-type"),
        (18, 11, "change-column-type"),
        (21, 5, "create-index-non-concurrently"),
    ]
    assert found[0][3] == (
        "Renaming accounts.email to login_email breaks the version still running (blue): its "
        "queries name email, and the new version's queries fail until the rename has run."
    )
    # The %I argument is a variable: an unknown table, named after it.
    assert found[1][3].startswith(
        "The table of <target>.total is the format() argument target, which bgmigrate cannot "
        "read, so the column's current type is unknown"
    )
    # A constant %I argument is the table itself.
    assert found[2][3].startswith(
        "Changing accounts.seats from integer to bigint is not known to be binary-coercible"
    )
    assert (
        "already locked ACCESS EXCLUSIVE in this transaction, by line 12 (ALTER TABLE "
        in (found[3][3])
    )
    assert "and line 18 (ALTER TABLE accounts ALTER COLUMN seats TYPE bigint)" in found[3][3]


def test_statements_span_their_own_text_in_the_file() -> None:
    result = check_sql(
        "SET lock_timeout = '2s';\nDO $body$ BEGIN\n  ALTER TABLE users\n"
        "    DROP COLUMN legacy; END $body$;"
    )
    [finding] = result.findings
    assert finding.rule == "drop-column"
    assert (finding.location.line, finding.location.column) == (3, 3)
    assert (finding.location.end_line, finding.location.end_column) == (4, 22)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A constant string: read, located at the string.
        ("EXECUTE 'ALTER TABLE users RENAME TO members';", [("rename-table", 3, 11)]),
        # %I/%s/%L with explicit positions; %% is a percent sign.
        (
            "EXECUTE format('ALTER TABLE %2$I RENAME COLUMN %1$I TO %1$s_old', 'email', 'users');",
            [("rename-column", 3, 11)],
        ),
        # Built by concatenation: not read (nothing claimed).
        ("EXECUTE 'ALTER TABLE ' || quote_ident(t) || ' DROP COLUMN x';", []),
        # Loops and nested blocks with an exception handler.
        (
            "FOR i IN 1..2 LOOP BEGIN\n  ALTER TABLE users DROP COLUMN legacy;\n"
            "EXCEPTION WHEN undefined_column THEN NULL; END; END LOOP;",
            [("drop-column", 4, 3)],
        ),
    ],
)
def test_dynamic_and_nested_statements(body: str, expected: list[tuple[str, int, int]]) -> None:
    header = "SET lock_timeout = '2s';\nDO $$ DECLARE t text := 'users'; i int; BEGIN\n"
    sql = f"{header}  {body}\nEND $$;"
    assert _located(sql) == expected


def test_a_do_block_in_another_language_or_that_does_not_parse_is_left_alone() -> None:
    assert _located("DO LANGUAGE plperl $$ print 1 $$;") == []
    assert (
        _located("SET lock_timeout = '2s';\nDO $$ BEGIN ALTER TABLE t DROP COLUMN x END $$;") == []
    )


def test_statements_in_a_single_quoted_body_are_read_at_the_do_statement() -> None:
    sql = "SET lock_timeout = '2s';\nDO 'BEGIN ALTER TABLE users DROP COLUMN \"it''s\"; END';"
    assert _located(sql) == [("drop-column", 2, 1)]


FUNCTION = (
    "SET lock_timeout = '2s';\n"
    "CREATE OR REPLACE FUNCTION add_partition(target text, day date) RETURNS integer\n"
    "LANGUAGE plpgsql AS $$\n"
    "DECLARE\n"
    "  child text := target || '_' || to_char(day, 'YYYYMMDD');\n"
    "BEGIN\n"
    "  EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING INDEXES)', child, target);\n"
    "  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)',\n"
    "    target, child, day);\n"
    "  ALTER TABLE users RENAME COLUMN email TO mail;\n"
    "  RETURN 1;\n"
    "END $$;\n"
)


def test_a_function_called_in_the_same_migration_is_checked_at_its_body_lines() -> None:
    called = FUNCTION + "SELECT add_partition('events', current_date);\n" * 2
    # Reported once (the first call), at the body's line; the partition the body creates
    # is new, so attaching it is not reported.
    assert _located(called) == [("rename-column", 10, 3)]


def test_a_function_only_created_is_not_checked() -> None:
    assert _located(FUNCTION) == []
    assert _located(FUNCTION.replace("add_partition(target", "other(target") + "CALL x();") == []


def test_a_procedure_called_runs_in_the_calls_transaction() -> None:
    sql = (
        "SET lock_timeout = '2s';\n"
        "CREATE PROCEDURE reindex_users() LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
        "END $$;\n"
        "CALL reindex_users();"
    )
    [finding] = check_sql(sql).findings
    assert (finding.rule, finding.location.line) == ("concurrently-in-transaction", 4)
    assert finding.message.startswith("This statement runs inside a DO block or function")
