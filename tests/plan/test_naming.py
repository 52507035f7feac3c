"""`plan --format sql --out DIR` names new files after the directory's scheme, so that they
sort, and run, after every migration already there."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from bgmigrate.plan.render.naming import NamingScheme, detect_scheme

NOW = datetime(2026, 12, 7, 4, 0, 0)
SLUGS = ["rename-users-email_expand", "rename-users-email_backfill"]


def _directory(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _names(tmp_path: Path, files: dict[str, str]) -> list[list[str]]:
    return detect_scheme(_directory(tmp_path, files)).files(SLUGS, now=NOW)


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        # The wall: `01_…` written into a directory numbered 0001_ to 0009_ sorted first.
        (
            [f"000{n}_step.sql" for n in range(1, 10)],
            ["0010_rename_users_email_expand.sql", "0011_rename_users_email_backfill.sql"],
        ),
        (
            ["001-init.sql", "002-add-users.sql"],
            ["003-rename-users-email-expand.sql", "004-rename-users-email-backfill.sql"],
        ),
        (
            ["20240101120000_init.sql", "20250301090000_users.sql"],
            [
                "20261207040000_rename_users_email_expand.sql",
                "20261207040001_rename_users_email_backfill.sql",
            ],
        ),
        (
            # a version from the future (clock skew): still after it
            ["20300101000000_future.sql"],
            [
                "20300101000001_rename_users_email_expand.sql",
                "20300101000002_rename_users_email_backfill.sql",
            ],
        ),
        (
            ["V1__init.sql", "V2__add_users.sql"],
            ["V3__rename_users_email_expand.sql", "V4__rename_users_email_backfill.sql"],
        ),
        (
            ["000001_init.up.sql", "000001_init.down.sql"],
            [
                "000002_rename_users_email_expand.up.sql",
                "000003_rename_users_email_backfill.up.sql",
            ],
        ),
        (
            ["1700000000_init.up.sql"],
            [
                "1796616000_rename_users_email_expand.up.sql",
                "1796616001_rename_users_email_backfill.up.sql",
            ],
        ),
    ],
)
def test_new_files_follow_the_directorys_numbering_and_sort_after_it(
    tmp_path: Path, existing: list[str], expected: list[str]
) -> None:
    files = dict.fromkeys(existing, "SELECT 1;\n")
    written = [paths[0] for paths in _names(tmp_path, files)]
    assert written == expected
    assert sorted([*existing, *written])[-2:] == written


def test_diesel_migrations_are_folders_with_up_and_down(tmp_path: Path) -> None:
    files = {
        "00000000000000_diesel_initial_setup/up.sql": "SELECT 1;\n",
        "00000000000000_diesel_initial_setup/down.sql": "SELECT 1;\n",
        "2024-05-01-120000_create_users/up.sql": "SELECT 1;\n",
        "2024-05-01-120000_create_users/down.sql": "SELECT 1;\n",
    }
    scheme = detect_scheme(_directory(tmp_path, files))
    assert scheme.layout == "diesel"
    assert scheme.files(SLUGS, now=NOW)[0] == [
        "2026-12-07-040000_rename_users_email_expand/up.sql",
        "2026-12-07-040000_rename_users_email_expand/down.sql",
    ]


def test_goose_files_get_their_markers_and_fenced_multi_line_statements(tmp_path: Path) -> None:
    scheme = detect_scheme(
        _directory(tmp_path, {"00001_init.sql": "-- +goose Up\nCREATE TABLE t ();\n"})
    )
    assert scheme.layout == "goose"
    text = scheme.wrap("SET lock_timeout = '2s';\nDO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n")
    assert text == (
        "-- +goose Up\n-- +goose NO TRANSACTION\nSET lock_timeout = '2s';\n"
        "-- +goose StatementBegin\nDO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n-- +goose StatementEnd\n"
        "\n-- +goose Down\n"
    )


def test_sql_migrate_files_named_by_bare_unix_seconds_get_the_next_ones_and_markers(
    tmp_path: Path,
) -> None:
    # convoy's layout: `<unix seconds>.sql`, no words; sql-migrate compares the numbers, so
    # the new files take the plan's time in Unix seconds (2026-12-07 04:00 UTC).
    existing = {
        "1684929840.sql": "-- +migrate Up\nCREATE TABLE t ();\n-- +migrate Down\nDROP TABLE t;\n",
        "1787251200.sql": "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n",
    }
    scheme = detect_scheme(_directory(tmp_path, existing))
    assert scheme.layout == "sql-migrate"
    assert scheme.files(SLUGS, now=NOW) == [
        ["1796616000_rename_users_email_expand.sql"],
        ["1796616001_rename_users_email_backfill.sql"],
    ]
    assert scheme.wrap("SET lock_timeout = '2s';\nDO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n") == (
        "-- +migrate Up notransaction\nSET lock_timeout = '2s';\n"
        "-- +migrate StatementBegin\nDO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n"
        "-- +migrate StatementEnd\n\n-- +migrate Down\n"
    )


def test_dbmate_files_get_their_up_and_down_markers(tmp_path: Path) -> None:
    existing = {"20240101120000_init.sql": "-- migrate:up\nCREATE TABLE t ();\n-- migrate:down\n"}
    scheme = detect_scheme(_directory(tmp_path, existing))
    assert scheme.layout == "dbmate"
    assert scheme.wrap("SELECT 1;\n") == (
        "-- migrate:up transaction:false\nSELECT 1;\n\n-- migrate:down\n"
    )


def test_an_empty_or_new_directory_gets_the_default_numbering(tmp_path: Path) -> None:
    assert detect_scheme(tmp_path) == NamingScheme()
    assert detect_scheme(tmp_path / "new") == NamingScheme()
    assert NamingScheme().files(SLUGS)[0] == ["01_rename-users-email_expand.sql"]


def test_plan_out_writes_after_the_existing_migrations(fresh_db: str, tmp_path: Path) -> None:
    dsn = fresh_db
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text)")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for number in range(1, 10):
        (migrations / f"000{number}_step.sql").write_text("SELECT 1;\n", encoding="utf-8")
    intent = ["rename", "users.email", "email_address"]
    output = ["--format", "sql", "--out", str(migrations)]
    done = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "plan", *intent, "--dsn", dsn, *output],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(path.name for path in migrations.iterdir())
    assert names[-3:] == [
        "0010_rename_users_email_expand.sql",
        "0011_rename_users_email_backfill.sql",
        "0012_rename_users_email_contract.sql",
    ]
