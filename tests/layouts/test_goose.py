"""goose: the Up section only, NO TRANSACTION, Go migrations listed as not checked."""

from __future__ import annotations

from .checking import check_layout

M = "db/migrations"


def test_up_sections_checked_and_down_sections_skipped_with_their_lines() -> None:
    checked = check_layout("goose")
    assert checked.result.layouts == [(M, "goose")]
    assert checked.units == [
        f"{M}/00001_create_accounts.sql",
        f"{M}/00002_touch_function.sql",
        f"{M}/00003_index_name.sql",
        f"{M}/00010_schema_owner.sql",
    ]
    assert checked.skipped == [
        (f"{M}/00004_seed_accounts.go", "go-migration", None),
        (f"{M}/00001_create_accounts.sql", "down", 7),
        (f"{M}/00002_touch_function.sql", "down", 11),
        (f"{M}/00003_index_name.sql", "down", 5),
        (f"{M}/00010_schema_owner.sql", "down", 7),
    ]


def test_findings_point_into_the_up_section_after_placeholders() -> None:
    # 00003 says NO TRANSACTION; 00010 runs in goose's transaction. Down sections (a DROP TABLE,
    # a DROP COLUMN) report nothing.
    [finding] = check_layout("goose").result.findings
    assert (finding.rule, finding.path) == (
        "concurrently-in-transaction",
        f"{M}/00010_schema_owner.sql",
    )
    assert (finding.location.line, finding.location.column) == (5, 1)
    assert finding.location.end_column == 74
