"""The config names a layout per path; the reports say what was read and what was left out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bgmigrate.check.report import FORMATS
from bgmigrate.check.runner import CheckOptions, CheckProblem, run_check
from bgmigrate.rules import CATALOG

from .checking import LAYOUTS, check_layout


def test_config_names_the_layout_of_an_ambiguous_directory(tmp_path: Path) -> None:
    # goose names with no `+goose` marker read as plain SQL, unless the config says goose.
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "1_a.sql").write_text("CREATE TABLE a (id int);\n")
    (migrations / "2_b.sql").write_text(
        "-- +goose Up\nCREATE INDEX CONCURRENTLY a_i ON a (id);\n-- +goose Down\nDROP TABLE a;\n"
    )
    (tmp_path / "bgmigrate.toml").write_text('[layouts]\n"db/migrations" = "goose"\n')
    result = run_check(CheckOptions(paths=("db",), cwd=tmp_path))
    assert result.layouts == [("db/migrations", "goose")]
    assert [(f.rule, f.location.line) for f in result.findings] == [
        ("concurrently-in-transaction", 2)
    ]


def test_config_can_say_a_directory_a_layout_claims_is_plain_sql(tmp_path: Path) -> None:
    """Named plain, a golang-migrate directory is walked as plain SQL: its down migrations
    are checked too, its folders entered, and no layout is reported."""
    migrations = tmp_path / "db"
    (migrations / "more").mkdir(parents=True)
    (migrations / "1_a.up.sql").write_text("CREATE TABLE a (id int);\n")
    (migrations / "1_a.down.sql").write_text("DROP TABLE a;\n")
    (migrations / "more" / "2_b.sql").write_text("ALTER TABLE a DROP COLUMN id;\n")
    detected = run_check(CheckOptions(paths=("db",), cwd=tmp_path))
    assert detected.layouts == [("db", "golang-migrate")]
    assert [u.path for u in detected.units] == ["db/1_a.up.sql"]
    (tmp_path / "bgmigrate.toml").write_text('[layouts]\n"db" = "plain"\n')
    result = run_check(CheckOptions(paths=("db",), cwd=tmp_path))
    assert result.layouts == []
    assert [u.path for u in result.units] == ["db/1_a.down.sql", "db/1_a.up.sql", "db/more/2_b.sql"]
    assert {"drop-table", "drop-column"} <= {f.rule for f in result.findings}


def test_an_unknown_layout_in_the_config_is_named(tmp_path: Path) -> None:
    (tmp_path / "bgmigrate.toml").write_text('[layouts]\n"db" = "gooose"\n')
    with pytest.raises(CheckProblem, match=r"layout 'gooose' of 'db' is unknown \(known: "):
        run_check(CheckOptions(paths=(".",), cwd=tmp_path))


def test_text_summary_names_layouts_and_counts_what_was_left_out(tmp_path: Path) -> None:
    shutil.copytree(LAYOUTS / "pop", tmp_path / "pop")
    shutil.copytree(LAYOUTS / "goose", tmp_path / "goose")
    result = run_check(CheckOptions(paths=("pop", "goose"), cwd=tmp_path))
    text = FORMATS["text"](result, CATALOG, color=False).splitlines()
    assert text[-3:] == [
        "Read pop/migrations as pop; goose/db/migrations as goose",
        "6 down migrations, 4 files for other engines, 1 Go migration, 1 migration not in SQL: "
        "not checked",
        "3 errors, 2 warnings in 9 units",
    ]


def test_json_lists_each_skipped_file_and_part_and_matches_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = check_layout("goose").result
    document = json.loads(FORMATS["json"](result, CATALOG, color=False))
    schema_path = Path(__file__).resolve().parents[2] / "bgmigrate/check/report"
    schema = json.loads((schema_path / "check-result.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["layouts"] == [{"path": "db/migrations", "layout": "goose"}]
    assert document["skipped"][:2] == [
        {"path": "db/migrations/00004_seed_accounts.go", "reason": "go-migration",
         "detail": "a Go migration"},
        {"path": "db/migrations/00001_create_accounts.sql", "reason": "down",
         "detail": "the -- +goose Down section", "line": 7, "end_line": 8},
    ]  # fmt: skip
