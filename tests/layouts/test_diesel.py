"""diesel: `<version>_<name>/up.sql` in version order, `metadata.toml` decides the transaction."""

from __future__ import annotations

from .checking import check_layout

M = "migrations"


def test_up_sql_in_version_order_and_down_sql_skipped() -> None:
    checked = check_layout("diesel")
    assert checked.result.layouts == [(M, "diesel")]
    versions = [
        "00000000000000_diesel_initial_setup",
        "2023-01-10-120000_create_posts",
        "2023-02-01-090000_index_posts_title",
        "2023-03-05-080000_rename_body",
    ]
    assert checked.units == [f"{M}/{v}/up.sql" for v in versions]
    assert checked.skipped == [(f"{M}/{v}/down.sql", "down", None) for v in versions]


def test_run_in_transaction_false_lets_concurrently_run() -> None:
    # index_posts_title's metadata.toml turns the transaction off; rename_body's does not.
    assert check_layout("diesel").findings == [
        ("rename-column", f"{M}/2023-03-05-080000_rename_body/up.sql", 1),
        ("require-lock-timeout", f"{M}/2023-03-05-080000_rename_body/up.sql", 1),
        ("concurrently-in-transaction", f"{M}/2023-03-05-080000_rename_body/up.sql", 2),
    ]
