"""The public Python API: pinned, importable, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import bgmigrate

PUBLIC = [
    "CATALOG",
    "CheckOptions",
    "CheckResult",
    "Finding",
    "Plan",
    "PlanOptions",
    "Severity",
    "__version__",
    "apply_phase",
    "approve_phase",
    "build_plan",
    "check_sql",
    "load_plan",
    "plan_status",
    "run_check",
]


def test_public_names_are_pinned() -> None:
    assert sorted(bgmigrate.__all__) == PUBLIC


def test_every_public_name_resolves() -> None:
    for name in PUBLIC:
        assert getattr(bgmigrate, name) is not None, name


def test_check_sql_from_the_package_finds_a_rename() -> None:
    result = bgmigrate.check_sql("ALTER TABLE users RENAME COLUMN email TO email_address")
    assert "rename-column" in [finding.rule for finding in result.findings]


def test_importing_the_package_loads_neither_planner_nor_database_driver() -> None:
    heavy = ("psycopg", "sqlalchemy", "bgmigrate.plan", "bgmigrate.execute")
    code = f"import sys, bgmigrate; print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
