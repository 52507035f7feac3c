"""sqlx: numeric versions, simple and reversible files, `-- no-transaction`."""

from __future__ import annotations

from .checking import check_layout

M = "migrations"


def test_simple_and_reversible_migrations_in_order() -> None:
    checked = check_layout("sqlx")
    assert checked.result.layouts == [(M, "sqlx")]
    assert checked.units == [
        f"{M}/20240101000000_create_orders.sql",
        f"{M}/20240102000000_index_status.sql",
        f"{M}/20240103000000_index_created.up.sql",
    ]
    assert checked.skipped == [(f"{M}/20240103000000_index_created.down.sql", "down", None)]


def test_no_transaction_first_line_lets_concurrently_run() -> None:
    assert check_layout("sqlx").findings == [
        ("require-lock-timeout", f"{M}/20240103000000_index_created.up.sql", 1),
        ("concurrently-in-transaction", f"{M}/20240103000000_index_created.up.sql", 2),
    ]
