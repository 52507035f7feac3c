"""Plain SQL: natural order; files for other engines skipped by directory and by content."""

from __future__ import annotations

from .checking import check_layout


def test_other_engines_skipped_by_directory_name_and_by_content() -> None:
    checked = check_layout("plain")
    assert checked.result.layouts == []
    assert checked.units == ["db/postgresql/001_init.sql", "db/postgresql/002_tags.sql"]
    assert [(s.path, s.reason.value, s.detail) for s in checked.result.skipped] == [
        ("db/sqlite/001_init.sql", "other-engine", "SQLite"),
        ("db/postgresql/003_legacy_import.sql", "other-engine", "MySQL (AUTO_INCREMENT)"),
    ]
    assert checked.findings == [
        ("add-not-null-column-without-default", "db/postgresql/002_tags.sql", 1),
        ("require-lock-timeout", "db/postgresql/002_tags.sql", 1),
    ]
