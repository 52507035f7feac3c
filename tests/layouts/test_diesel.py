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


def test_versions_compare_without_their_dashes(tmp_path) -> None:
    """crates.io mixes `20170804200817_…` and `2017-09-23-182408_…`: diesel removes the
    dashes, so `2017-09-23` comes after `20170804`, not before."""
    from bgmigrate.source.discover import discover

    for name in ("20170804200817_add_emails", "2017-09-23-182408_move_tokens", "20171001_x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "up.sql").write_text("SELECT 1;\n")
    assert [path.parent.name for path in discover([tmp_path]).sql_files] == [
        "20170804200817_add_emails",
        "2017-09-23-182408_move_tokens",
        "20171001_x",
    ]
