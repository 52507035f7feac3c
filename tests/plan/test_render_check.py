"""Every SQL file and Alembic revision the planner renders, for every operation, passes
`bgmigrate check` with no error."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bgmigrate.plan.introspect import introspect
from bgmigrate.plan.operations import PlanOptions, build_plan
from bgmigrate.plan.render import render

from .scenarios import SCENARIOS

pytest.importorskip("bgmigrate.check.engine")

BASE_REVISION = '''"""The project's first revision."""
from alembic import op

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    pass
'''


def _errors(directory: Path, pg_version: int) -> list[str]:
    from bgmigrate.check.finding import Severity
    from bgmigrate.check.runner import CheckOptions, run_check

    result = run_check(CheckOptions(paths=(str(directory),), pg_version=pg_version, cwd=directory))
    assert result.units, f"nothing was checked in {directory}"
    for finding in result.findings:
        if finding.suppressed:
            assert finding.suppression_reason, f"{finding.rule} suppressed without a reason"
    return [
        f"{Path(f.path).name}:{f.location.line}: {f.rule}: {f.message}"
        for f in result.findings
        if not f.suppressed and f.severity is Severity.ERROR
    ]


@pytest.fixture(scope="module")
def plans(pg_dsn):
    """The plan of every scenario, each made against its own starting schema."""
    import uuid

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    made = {}
    for name, (operation, scenario) in SCENARIOS.items():
        database = f"render_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        dsn = make_conninfo(**{**conninfo_to_dict(pg_dsn), "dbname": database})
        try:
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(scenario.setup)
            made[name] = build_plan(operation, introspect(dsn), PlanOptions(pg_version=16))
        finally:
            with psycopg.connect(pg_dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    return made


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_rendered_sql_files_pass_check(name, plans, tmp_path):
    plan = plans[name]
    files = render(plan, "sql")
    assert len(files) == sum(1 for phase in plan.phases if phase.is_db)
    for file in files:
        (tmp_path / file.name).write_text(file.text)
    assert _errors(tmp_path, plan.pg_version) == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_rendered_alembic_revisions_pass_check(name, plans, tmp_path):
    plan = plans[name]
    (tmp_path / "0001_base.py").write_text(BASE_REVISION)
    for file in render(plan, "alembic", tmp_path):
        (tmp_path / file.name).write_text(file.text)
    assert _errors(tmp_path, plan.pg_version) == []
