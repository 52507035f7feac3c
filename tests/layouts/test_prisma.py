"""Prisma: migration.sql per folder in name order; migration_lock.toml names the engine."""

from __future__ import annotations

from .checking import check_layout

M = "prisma/migrations"


def test_folders_in_name_order_and_a_lone_concurrently_passes() -> None:
    checked = check_layout("prisma")
    assert checked.result.layouts == [(M, "prisma")]
    assert checked.units == [
        f"{M}/20240101000000_init/migration.sql",
        f"{M}/20240201000000_add_role/migration.sql",
        f"{M}/20240301000000_index_role/migration.sql",
    ]
    assert checked.findings == [
        ("add-not-null-column-without-default", f"{M}/20240201000000_add_role/migration.sql", 2),
        ("require-lock-timeout", f"{M}/20240201000000_add_role/migration.sql", 2),
    ]
    assert checked.skipped == []


def test_a_mysql_provider_skips_every_migration() -> None:
    checked = check_layout("prisma-mysql")
    assert checked.units == []
    assert checked.findings == []
    [skipped] = checked.result.skipped
    assert (skipped.path, skipped.reason.value, skipped.detail) == (
        "migrations/20240101000000_init/migration.sql",
        "other-engine",
        "MySQL",
    )
