"""postgres-migrations: id order, disable-transaction as one query, ignored files."""

from __future__ import annotations

from .checking import check_layout

M = "migrations"


def test_ids_in_order_and_an_ignored_file_is_left_out() -> None:
    checked = check_layout("postgres-migrations")
    assert checked.result.layouts == [(M, "postgres-migrations")]
    assert checked.units == [
        f"{M}/0001-create-buckets.sql",
        f"{M}/0002-index-name.sql",
        f"{M}/0003-owner.sql",
        f"{M}/0010-legacy-prefixes.sql",
    ]
    assert checked.skipped == [(f"{M}/0010-legacy-prefixes.sql", "ignored", 1)]
    # The ignored file's DROP COLUMN never runs; 0003's two statements are one query.
    assert checked.findings == [
        ("require-lock-timeout", f"{M}/0003-owner.sql", 2),
        ("concurrently-in-transaction", f"{M}/0003-owner.sql", 3),
    ]
