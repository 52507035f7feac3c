"""GitLab and SARIF name files relative to the repository root, wherever bgmigrate runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RENAME = "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "db" / "migrations" / "0001_rename.sql").write_text(RENAME, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _check(cwd: Path, path: str | Path, report: str) -> object:
    done = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check", str(path), "--format", report],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("db/migrations", "0001_rename.sql"),  # inside the migrations directory
        ("db", "migrations/0001_rename.sql"),
        ("..", "project/db/migrations/0001_rename.sql"),  # outside the repository
        ("/", "ABSOLUTE"),
    ],
)
def test_gitlab_and_sarif_paths_are_relative_to_the_repository_root(
    repository: Path, where: str, path: str
) -> None:
    cwd = (repository / where).resolve()
    given = repository / "db/migrations/0001_rename.sql" if path == "ABSOLUTE" else path
    gitlab = _check(cwd, given, "gitlab")
    assert {issue["location"]["path"] for issue in gitlab} == {"db/migrations/0001_rename.sql"}  # type: ignore[attr-defined]
    run = _check(cwd, given, "sarif")["runs"][0]  # type: ignore[index]
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "db/migrations/0001_rename.sql", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repository.resolve().as_uri() + "/"}}
