"""Alembic: each environment of a tree found on its own; a sqlite version directory skipped."""

from __future__ import annotations

from .checking import check_layout


def test_two_environments_and_a_version_directory_per_dialect() -> None:
    checked = check_layout("alembic")
    assert checked.result.layouts == [("core", "alembic"), ("tenant", "alembic")]
    assert checked.units == [
        "core/versions/c1_create_accounts.py",
        "core/versions/c2_rename_accounts.py",
        "tenant/versions/postgresql/t1_create_notes.py",
        "tenant/versions/postgresql/t2_drop_body.py",
    ]
    [skipped] = checked.result.skipped
    assert (skipped.path, skipped.reason.value, skipped.detail) == (
        "tenant/versions/sqlite/s1_create_notes.py",
        "other-engine",
        "SQLite",
    )
    assert checked.findings == [
        ("rename-table", "core/versions/c2_rename_accounts.py", 14),
        ("require-lock-timeout", "core/versions/c2_rename_accounts.py", 14),
        ("drop-column", "tenant/versions/postgresql/t2_drop_body.py", 14),
        ("require-lock-timeout", "tenant/versions/postgresql/t2_drop_body.py", 14),
    ]


def test_a_revision_of_another_engine_named_alone_is_skipped() -> None:
    checked = check_layout("alembic", "tenant/versions/sqlite/s1_create_notes.py")
    assert checked.units == []
    assert [s.reason.value for s in checked.result.skipped] == ["other-engine"]
