"""Every plan operation, applied phase by phase (its rendered SQL) on a real PostgreSQL while the
old and the new app versions run: zero errors for each version while it is live, the same data
through both shapes, and after contract the schema of a table created directly in its final
shape."""

from __future__ import annotations

import psycopg
import pytest

from bgmigrate.plan.introspect import introspect
from bgmigrate.plan.operations import PlanOptions, build_plan

from .bluegreen import Scenario, Version, catalog, final_catalog, run_plan
from .scenarios import SCENARIOS, USERS_READ


def _prove(dsn: str, server: str, operation, scenario: Scenario, tmp_path, **options) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(scenario.setup)
    plan = build_plan(operation, introspect(dsn), PlanOptions(**options))
    assert plan.blockers == ()
    outcome = run_plan(dsn, plan, scenario, tmp_path / "phases")
    assert outcome.errors == {"old": [], "new": []}
    assert outcome.iterations["old"] > 0 and outcome.iterations["new"] > 0
    assert catalog(dsn, scenario.tables) == final_catalog(server, scenario.final, scenario.tables)
    with psycopg.connect(dsn) as connection:
        leftovers = connection.execute(
            "SELECT proname FROM pg_proc WHERE proname LIKE 'bgmigrate%'"
        ).fetchall()
    assert leftovers == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_both_versions_keep_working_through_every_phase(name, fresh_db, pg_dsn, tmp_path):
    operation, scenario = SCENARIOS[name]
    _prove(fresh_db, pg_dsn, operation, scenario, tmp_path)


def test_rename_with_app_dual_write_keeps_both_versions_working(fresh_db, pg_dsn, tmp_path):
    operation, scenario = SCENARIOS["rename-column"]
    bridge = Version(
        "bridge",
        "INSERT INTO users (name, email, email_address) VALUES (%(key)s, %(value)s, %(value)s)",
        "UPDATE users SET email = %(value)s, email_address = %(value)s WHERE name = %(key)s",
        USERS_READ,
    )
    app_written = Scenario(**{**scenario.__dict__, "bridge": bridge})
    _prove(fresh_db, pg_dsn, operation, app_written, tmp_path, dual_write="app")
