"""Supabase CLI: supabase/migrations in timestamp order; seed.sql is not a migration."""

from __future__ import annotations

from .checking import check_layout

M = "supabase/migrations"


def test_migrations_only_and_a_lone_concurrently_passes() -> None:
    checked = check_layout("supabase")
    assert checked.result.layouts == [("supabase", "supabase")]
    assert checked.units == [
        f"{M}/20240101000000_profiles.sql",
        f"{M}/20240201000000_index_username.sql",
        f"{M}/20240301000000_website.sql",
    ]
    assert checked.findings == [
        ("require-lock-timeout", f"{M}/20240101000000_profiles.sql", 1),
        ("require-lock-timeout", f"{M}/20240301000000_website.sql", 1),
        ("concurrently-in-transaction", f"{M}/20240301000000_website.sql", 2),
    ]


def test_one_file_named_is_read_as_its_directory_lays_it_out() -> None:
    checked = check_layout("supabase", f"{M}/20240301000000_website.sql")
    assert checked.result.layouts == [(M, "supabase")]
    assert [f[0] for f in checked.findings] == [
        "require-lock-timeout",
        "concurrently-in-transaction",
    ]
