"""`bgmigrate check` with no path and no config finds the migrations where tools put them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from git_helpers import git

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RENAME = "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n"
SAFE = "SET lock_timeout = '2s';\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n"


def _check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("directory", ["migrations", "db/migrations"])
def test_no_path_finds_a_well_known_directory_and_says_so(tmp_path: Path, directory: str) -> None:
    _write(tmp_path / directory / "0001_create.sql", SAFE)
    _write(tmp_path / directory / "0002_rename.sql", RENAME)
    result = _check("--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert {f["path"] for f in json.loads(result.stdout)["findings"]} == {
        f"{directory}/0002_rename.sql"
    }
    assert result.stderr.splitlines() == [
        f"bgmigrate: checking {directory} (found with no path given; name paths, or set "
        "`paths` under [tool.bgmigrate], to choose)"
    ]


def test_no_path_in_a_subdirectory_finds_them_at_the_repository_root(tmp_path: Path) -> None:
    _write(tmp_path / "migrations/0001_rename.sql", RENAME)
    (tmp_path / "app/models").mkdir(parents=True)
    git(tmp_path, "init", "-q")
    result = _check("--format", "json", cwd=tmp_path / "app/models")
    assert result.returncode == 1
    assert str(tmp_path.resolve() / "migrations") in result.stderr


def test_no_path_finds_the_alembic_project_behind_alembic_ini(tmp_path: Path) -> None:
    project = shutil.copytree(FIXTURES / "alembic_app", tmp_path / "app")
    result = _check("--format", "json", cwd=project)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("bgmigrate: checking alembic.ini (found with no path")
    paths = {unit["path"] for unit in json.loads(result.stdout)["units"]}
    assert paths and all(p.startswith("migrations/versions/") for p in paths)


def test_alembic_ini_is_accepted_as_a_path(tmp_path: Path) -> None:
    project = shutil.copytree(FIXTURES / "alembic_app", tmp_path / "app")
    by_ini = _check("alembic.ini", "--format", "json", cwd=project)
    by_directory = _check("migrations", "--format", "json", cwd=project)
    assert by_ini.returncode == by_directory.returncode == 1, by_ini.stderr
    assert json.loads(by_ini.stdout)["findings"] == json.loads(by_directory.stdout)["findings"]


def test_nothing_found_exits_two_naming_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()  # empty: not a reason to pass
    result = _check(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert f"no migrations found in {tmp_path}" in result.stderr
    assert "alembic.ini, migrations/, db/migrations/" in result.stderr


def test_an_explicit_empty_directory_exits_two(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    result = _check("migrations", cwd=tmp_path)
    assert result.returncode == 2
    assert "migrations holds no migrations" in result.stderr


def test_since_with_no_migration_changed_is_a_success_saying_so(tmp_path: Path) -> None:
    _write(tmp_path / "migrations/0001_rename.sql", RENAME)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    result = _check("--since", "main", "--format", "sarif", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["runs"][0]["results"] == []
    assert result.stderr.splitlines()[-1] == (
        "bgmigrate: no migration changed since main: nothing to report (1 read)"
    )


def test_plan_with_no_schema_source_replays_the_migrations_it_finds(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "sql_app/migrations", tmp_path / "migrations")
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "plan", "rename", "users.email", "email_address"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "bgmigrate: replaying migrations for the schema (found with no source given)\n"
    )
    assert 'operation = "rename-column"' in result.stdout


@pytest.mark.parametrize(
    ("project", "directory"),
    [
        ("goose", "db/migrations"),
        ("prisma", "prisma/migrations"),
        ("supabase", "supabase/migrations"),
        ("liquibase", "src/main/resources/db/changelog"),
        ("sqitch", "."),
    ],
)
def test_no_path_finds_a_tool_project_and_reads_it_by_its_layout(
    tmp_path: Path, project: str, directory: str
) -> None:
    shutil.copytree(FIXTURES / "layouts" / project, tmp_path / project)
    root = tmp_path / project
    found = _check("--format", "json", cwd=root)
    named = _check(directory, "--format", "json", cwd=root)
    assert found.returncode == named.returncode == 1, found.stderr
    report, expected = json.loads(found.stdout), json.loads(named.stdout)
    assert report["findings"] == expected["findings"]
    assert report["skipped"] == expected["skipped"]
    assert report["layouts"] == expected["layouts"] != []
    assert found.stderr.startswith(f"bgmigrate: checking {directory} (found with no path given")
