"""Documentation that is generated or promised stays true."""

from __future__ import annotations

import re
from pathlib import Path

from bgmigrate.check.catalog import rule_reference

REPO = Path(__file__).resolve().parent.parent


def test_rule_reference_is_regenerated() -> None:
    current = (REPO / "docs/rules.md").read_text(encoding="utf-8")
    assert current == rule_reference(), (
        "docs/rules.md is stale: run `python -m bgmigrate.check.catalog > docs/rules.md`"
    )


def test_pre_commit_hook_runs_check_on_migration_files() -> None:
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    hook = dict(re.findall(r"^\s*-?\s*(\w+):\s*(.+)$", text, re.MULTILINE))
    assert hook["id"] == "bgmigrate"
    assert hook["entry"] == "bgmigrate check"
    assert hook["language"] == "python"
    files = re.compile(hook["files"].strip("'"))
    assert files.search("migrations/0003_rename.sql")
    assert files.search("alembic/versions/3f2a_add_phone.py")
    assert not files.search("app/models.py")


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- test-command -->", 1)[1].split("```", 2)[1].strip()
    assert "pip install" in block and "[test]" in block and "pytest" in block
    assert "test-command" in (REPO / ".ci/run").read_text(encoding="utf-8")
