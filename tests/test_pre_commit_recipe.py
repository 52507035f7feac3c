"""docs/ci.md's pre-commit recipe: the hook, installed by pre-commit from this checkout, fails a
commit that stages a bad migration. Slow (pre-commit builds the hook's virtualenv from PyPI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from bgmigrate import __version__

REPO = Path(__file__).resolve().parent.parent
RENAME = "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n"


def _recipe() -> dict:
    text = (REPO / "docs/ci.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", text, re.DOTALL)
    [repo] = yaml.safe_load(block)["repos"]
    return repo


def test_the_recipe_names_the_release_tag_and_matches_migration_files() -> None:
    repo = _recipe()
    assert repo["rev"] == f"v{__version__}"  # the tag docs/release.md says each release gets
    [hook] = repo["hooks"]
    assert hook["id"] == "bgmigrate"
    files = re.compile(hook["files"])
    assert files.search("migrations/0003_rename.sql")
    assert files.search("alembic/versions/3f2a_add_phone.py")
    assert not files.search("app/models.py")


def test_pre_commit_try_repo_runs_the_hook_from_the_checkout(tmp_path: Path) -> None:
    scratch = tmp_path / "project"
    (scratch / "migrations").mkdir(parents=True)
    (scratch / "migrations/0001_rename.sql").write_text(RENAME, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=scratch, check=True)
    subprocess.run(["git", "add", "."], cwd=scratch, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), _recipe()["hooks"][0]["id"]],
        cwd=scratch,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "bgmigrate check" in done.stdout and "Failed" in done.stdout
    assert "migrations/0001_rename.sql:2:1  error  rename-column" in done.stdout
