"""The engine end to end: arbitrary input never crashes a check; context crosses units."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from bgmigrate.check.api import check_sql
from bgmigrate.check.report import FORMATS
from bgmigrate.rules import CATALOG

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[1] / "bgmigrate/check/report/check-result.schema.json"
    ).read_text(encoding="utf-8")
)
SQLISH = st.lists(
    st.sampled_from(
        [
            *"abcdeftxyz_ ;,'\"$()*-/\\\n\t0123456789.:=",
            *("ALTER TABLE t ", "ADD COLUMN ", "DROP ", "CREATE INDEX ", "CONCURRENTLY "),
            *("BEGIN", "COMMIT", "NOT NULL ", "DEFAULT ", "RENAME ", "TO ", "$$", "E'"),
            *("-- bgmigrate: ", "ignore ", "phase=contract", "é", "\u2028"),
        ]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(SQLISH)
def test_any_sqlish_text_yields_findings_or_nothing_never_a_crash(text: str) -> None:
    result = check_sql(text)
    document = json.loads(FORMATS["json"](result, CATALOG, color=False))
    jsonschema.validate(document, SCHEMA)
    for finding in result.findings:
        assert finding.location.line >= 1 and finding.location.column >= 1


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_unicode_never_crashes_a_check(text: str) -> None:
    check_sql(text)


def test_unparsable_statement_is_a_syntax_error_and_the_rest_is_still_checked() -> None:
    result = check_sql(
        "ALTER TABLE users ADDD COLUMN x int;\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users RENAME COLUMN email TO email_address;\n"
    )
    assert [(f.rule, f.location.line) for f in result.findings] == [
        ("syntax-error", 1),
        ("rename-column", 3),
    ]


def test_objects_from_an_earlier_unit_are_existing_ones() -> None:
    create = "CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
    index = "CREATE INDEX events_kind_idx ON events (kind);\n"
    assert check_sql(create + index).findings == []
    rules = {f.rule for f in check_sql(index, before=create).findings}
    assert "create-index-non-concurrently" in rules


def test_json_report_of_the_fixture_app_matches_the_schema() -> None:
    from bgmigrate.check.runner import CheckOptions, run_check

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    result = run_check(CheckOptions(paths=(str(fixtures / "sql_app"),), cwd=fixtures))
    document = json.loads(FORMATS["json"](result, CATALOG, color=False))
    jsonschema.validate(document, SCHEMA)
    assert document["summary"]["units"] == 15
    assert document["summary"]["suppressed"] == 1


def test_validated_not_null_check_follows_column_and_table_renames() -> None:
    before = (
        "CREATE TABLE t (id int PRIMARY KEY, a int);\n"
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT c;\n"
        "ALTER TABLE t RENAME COLUMN a TO b;\n"
        "ALTER TABLE t RENAME TO u;\n"
    )
    set_not_null = "SET lock_timeout = '1s';\nALTER TABLE {} ALTER COLUMN {} SET NOT NULL;"
    assert check_sql(set_not_null.format("u", "b"), before=before).findings == []
    rules = [f.rule for f in check_sql(set_not_null.format("u", "a"), before=before).findings]
    assert rules == ["set-not-null"]
