"""The plans the planner writes are what `bgmigrate apply` runs: every operation's plan, applied
phase by phase by the executor (approvals included), ends in the intended final schema."""

from __future__ import annotations

import psycopg
import pytest

from bgmigrate.plan.introspect import introspect
from bgmigrate.plan.operations import PlanOptions, build_plan

from .bluegreen import catalog, final_catalog
from .scenarios import SCENARIOS

pytest.importorskip("bgmigrate.execute.executor")


@pytest.mark.parametrize(
    ("name", "dual_write"),
    [*((name, "trigger") for name in sorted(SCENARIOS)), ("rename-column", "app")],
)
def test_the_executor_applies_every_plan_to_its_final_schema(name, dual_write, fresh_db, pg_dsn):
    from bgmigrate.execute.executor import apply_phase, approve_phase

    operation, scenario = SCENARIOS[name]
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute(scenario.setup)
    plan = build_plan(operation, introspect(fresh_db), PlanOptions(dual_write=dual_write))
    for phase in plan.phases:
        if phase.needs_approval:
            approve_phase(plan, phase.name, fresh_db, by="test")
        apply_phase(plan, phase.name, fresh_db)
    tables = scenario.tables
    assert catalog(fresh_db, tables) == final_catalog(pg_dsn, scenario.final, tables)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_rolling_back_before_contract_restores_the_starting_schema(name, fresh_db):
    from bgmigrate.execute.executor import apply_phase, approve_phase, rollback_phase

    operation, scenario = SCENARIOS[name]
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute(scenario.setup)
    schema = introspect(fresh_db)
    tables = tuple(table.name for table in schema.tables)
    before = catalog(fresh_db, tables)
    plan = build_plan(operation, schema, PlanOptions())
    applied = [phase for phase in plan.phases if phase.name in ("expand", "backfill")]
    if not applied:
        pytest.skip(f"{name} changes nothing before contract")
    for phase in applied:
        if phase.needs_approval:
            approve_phase(plan, phase.name, fresh_db, by="test")
        apply_phase(plan, phase.name, fresh_db)
    rollback_phase(plan, applied[0].name, fresh_db)
    assert catalog(fresh_db, tables) == before
