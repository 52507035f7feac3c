"""dbmate: the migrate:up section only, `transaction:false` on its marker."""

from __future__ import annotations

from .checking import check_layout

M = "db/migrations"


def test_up_sections_checked_and_transaction_false_honoured() -> None:
    checked = check_layout("dbmate")
    assert checked.result.layouts == [(M, "dbmate")]
    assert checked.units == [
        f"{M}/20230101000000_create_events.sql",
        f"{M}/20230201000000_index_kind.sql",
        f"{M}/20230301000000_rename_kind.sql",
    ]
    assert checked.findings == [
        ("rename-column", f"{M}/20230301000000_rename_kind.sql", 3),
        ("concurrently-in-transaction", f"{M}/20230301000000_rename_kind.sql", 4),
    ]
    assert checked.skipped == [
        (f"{M}/20230101000000_create_events.sql", "down", 7),
        (f"{M}/20230201000000_index_kind.sql", "down", 4),
        (f"{M}/20230301000000_rename_kind.sql", "down", 6),
    ]
