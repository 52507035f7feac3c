"""The catalog's listing (`bgmigrate.rules.LISTED`) says of each rule what its module's `RULE`
says, and a check imports only the rule modules that its operations and findings need."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import bgmigrate.rules
from bgmigrate.check.finding import Severity
from bgmigrate.rules import CATALOG, LISTED

RULES_FOLDER = Path(bgmigrate.rules.__file__).parent
NOT_RULES = {"__init__", "recipes"}


def test_every_rule_module_is_listed_once_in_catalog_order() -> None:
    modules = {path.stem for path in RULES_FOLDER.glob("*.py")} - NOT_RULES
    assert {name.replace("-", "_") for name in LISTED} == modules
    assert list(CATALOG) == list(LISTED)
    assert [rule.name for rule in CATALOG.values()] == list(LISTED)


@pytest.mark.parametrize("name", list(LISTED))
def test_each_line_says_what_its_module_says(name: str) -> None:
    listed, rule = LISTED[name], CATALOG[name]
    assert (listed.name, listed.category, listed.severity) == (
        rule.name,
        rule.category,
        rule.severity,
    )
    assert listed.visits == rule.visits
    assert listed.check is rule.check
    assert listed.plan_command == rule.plan_command


def test_an_overridden_severity_is_the_listed_rules_own() -> None:
    listed = replace(LISTED["drop-column"], severity=Severity.WARNING)
    assert listed.severity is Severity.WARNING
    assert listed.summary == CATALOG["drop-column"].summary
    assert CATALOG["drop-column"].severity is Severity.ERROR


def test_a_check_of_one_file_imports_only_the_rules_its_operations_need(
    tmp_path: Path,
) -> None:
    (tmp_path / "r.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n"
    )
    program = (
        "import sys\n"
        "sys.argv = ['bgmigrate', 'check', '--no-cache', 'r.sql']\n"
        "from bgmigrate.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('bgmigrate.rules.'))),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert "rename-column" in done.stdout
    imported = {name.rsplit(".", 1)[1] for name in done.stderr.split("\n")[-2].split()}
    # What visits a rename (and every operation), and what renders its finding.
    assert imported == {"rename_column", "require_lock_timeout", "recipes"}
