"""sql-migrate: the Up sections only, in numeric order; `notransaction` on any Up line."""

from __future__ import annotations

from .checking import check_layout

M = "migrations"


def test_up_sections_checked_in_numeric_order_and_down_sections_skipped() -> None:
    checked = check_layout("sql-migrate")
    assert checked.result.layouts == [(M, "sql-migrate")]
    assert checked.units == [
        f"{M}/1_create_accounts.sql",
        f"{M}/2_index_email.sql",
        f"{M}/9_add_plan.sql",
        f"{M}/10_index_name.sql",
    ]
    assert checked.skipped == [
        (f"{M}/1_create_accounts.sql", "down", 13),
        (f"{M}/2_index_email.sql", "down", 4),
        (f"{M}/9_add_plan.sql", "down", 5),
        (f"{M}/9_add_plan.sql", "down", 12),
        (f"{M}/10_index_name.sql", "down", 4),
    ]


def test_one_notransaction_up_line_takes_the_whole_file_out_of_a_transaction() -> None:
    # 2_ and 9_ (its second Up section) say notransaction: their CONCURRENTLY builds run.
    # 10_ says nothing: sql-migrate runs it in a transaction, where PostgreSQL refuses it.
    # The Down sections (a DROP TABLE, a DROP COLUMN) report nothing.
    assert check_layout("sql-migrate").findings == [
        ("concurrently-in-transaction", f"{M}/10_index_name.sql", 2),
    ]
