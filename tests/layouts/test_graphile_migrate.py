"""graphile-migrate: committed/ in number order then current.sql; --! no-transaction."""

from __future__ import annotations

from .checking import check_layout

M = "migrations"


def test_committed_in_number_order_then_current() -> None:
    checked = check_layout("graphile-migrate")
    assert checked.result.layouts == [(M, "graphile-migrate")]
    assert checked.units == [
        f"{M}/committed/000001.sql",
        f"{M}/committed/000002-index-slug.sql",
        f"{M}/committed/000010.sql",
        f"{M}/current.sql",
    ]


def test_no_transaction_is_one_query_and_placeholders_parse() -> None:
    # 000002 holds the index alone; 000010 has two statements, which pg runs as one implicit
    # transaction. 000001's `TO :DATABASE_VISITOR` is substituted, not a syntax error.
    assert check_layout("graphile-migrate").findings == [
        ("require-lock-timeout", f"{M}/committed/000010.sql", 6),
        ("concurrently-in-transaction", f"{M}/committed/000010.sql", 7),
        ("drop-column", f"{M}/current.sql", 2),
        ("require-lock-timeout", f"{M}/current.sql", 2),
    ]
