"""pop and popx: the postgres file of a version wins, other dialects and fizz skipped."""

from __future__ import annotations

from .checking import check_layout

M = "migrations"


def test_postgres_files_replace_the_dialect_neutral_ones() -> None:
    checked = check_layout("pop")
    assert checked.result.layouts == [(M, "pop")]
    assert checked.units == [
        f"{M}/20210101000000_identities.up.sql",
        f"{M}/20210201000000_identity_state.postgres.up.sql",
        f"{M}/20210301000000_index_state.postgres.autocommit.up.sql",
        f"{M}/20210401000000_traits_index.postgres.up.sql",
        f"{M}/20210501000000_drop_traits.postgres.up.sql",
    ]
    assert sorted(checked.skipped) == [
        (f"{M}/20210101000000_identities.down.sql", "down", None),
        (f"{M}/20210201000000_identity_state.cockroach.up.sql", "other-engine", None),
        (f"{M}/20210201000000_identity_state.down.sql", "down", None),
        (f"{M}/20210201000000_identity_state.mysql.up.sql", "other-engine", None),
        (f"{M}/20210201000000_identity_state.sqlite3.up.sql", "other-engine", None),
        (f"{M}/20210201000000_identity_state.up.sql", "other-engine", None),
        (f"{M}/20210601000000_seed.up.fizz", "not-sql", None),
    ]


def test_templates_are_checked_around_and_autocommit_files_run_outside_a_transaction() -> None:
    assert check_layout("pop").findings == [
        ("require-lock-timeout", f"{M}/20210201000000_identity_state.postgres.up.sql", 1),
        ("concurrently-in-transaction", f"{M}/20210401000000_traits_index.postgres.up.sql", 1),
        ("drop-column", f"{M}/20210501000000_drop_traits.postgres.up.sql", 1),
        ("require-lock-timeout", f"{M}/20210501000000_drop_traits.postgres.up.sql", 1),
    ]


def test_other_engines_are_named() -> None:
    details = {s.path.rsplit("/", 1)[1]: s.detail for s in check_layout("pop").result.skipped}
    assert details["20210201000000_identity_state.mysql.up.sql"] == "MySQL"
    assert details["20210201000000_identity_state.sqlite3.up.sql"] == "SQLite"
    assert details["20210201000000_identity_state.cockroach.up.sql"] == "CockroachDB"
    assert details["20210201000000_identity_state.up.sql"] == (
        "replaced by this version's .postgres. file"
    )
