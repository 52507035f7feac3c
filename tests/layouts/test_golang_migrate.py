"""golang-migrate: numeric version order, down files skipped, one query per file."""

from __future__ import annotations

from bgmigrate.source.layouts import detect_layout

from .checking import LAYOUTS, check_layout


def test_up_files_in_numeric_order_and_down_files_skipped() -> None:
    checked = check_layout("golang-migrate")
    assert checked.result.layouts == [(".", "golang-migrate")]
    assert checked.units == [
        "1_create_users.up.sql",
        "2_index_email.up.sql",
        "9_add_tier.up.sql",
        "10_drop_legacy_code.up.sql",
    ]
    assert checked.skipped == [
        ("1_create_users.down.sql", "down", None),
        ("2_index_email.down.sql", "down", None),
        ("9_add_tier.down.sql", "down", None),
        ("10_drop_legacy_code.down.sql", "down", None),
    ]


def test_concurrently_fails_only_in_a_file_of_several_statements() -> None:
    # One query of several statements is one implicit transaction; alone, it runs outside one.
    assert check_layout("golang-migrate").findings == [
        ("concurrently-in-transaction", "9_add_tier.up.sql", 3),
        ("drop-column", "10_drop_legacy_code.up.sql", 2),
    ]


def test_a_down_file_named_alone_is_not_checked() -> None:
    checked = check_layout("golang-migrate", "9_add_tier.down.sql", "9_add_tier.up.sql")
    assert checked.units == ["9_add_tier.up.sql"]
    assert checked.skipped == [("9_add_tier.down.sql", "down", None)]


def test_detected_from_names_only() -> None:
    layout = detect_layout(LAYOUTS / "golang-migrate")
    assert layout is not None and layout.name == "golang-migrate"
    assert detect_layout(LAYOUTS.parent / "sql_app") is None
