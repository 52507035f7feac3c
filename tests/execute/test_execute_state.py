"""The state schema `bgmigrate`: created on first use, versioned, safe to create concurrently."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from bgmigrate.execute.errors import ExecutionError
from bgmigrate.execute.executor import apply_phase
from bgmigrate.execute.state import STATE_VERSION, StateStore
from bgmigrate.execute.status import plan_status
from bgmigrate.plan.model import Plan

TABLES = {
    "schema_version",
    "plans",
    "phase_runs",
    "completed_steps",
    "approvals",
    "backfill_checkpoints",
}


def state_tables(query: Any) -> set[str]:
    rows = query("SELECT tablename FROM pg_tables WHERE schemaname = 'bgmigrate'")
    return {row[0] for row in rows}


def test_state_schema_is_created_on_first_apply(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    assert state_tables(query) == set()
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    assert state_tables(query) == TABLES
    assert query("SELECT version FROM bgmigrate.schema_version") == [(STATE_VERSION,)]
    assert query("SELECT id, checksum, body->>'operation' FROM bgmigrate.plans") == [
        ("rename-users-email", rename_plan.checksum, "rename-column")
    ]
    assert query(
        "SELECT phase, step, sql FROM bgmigrate.completed_steps ORDER BY step LIMIT 1"
    ) == [("expand", 0, rename_plan.phase("expand").steps[0].sql)]


def test_creating_the_state_concurrently_is_safe(users_db: str, query: Any) -> None:
    errors: list[BaseException] = []

    def ensure() -> None:
        try:
            with psycopg.connect(users_db, autocommit=True) as conn:
                StateStore(conn).ensure()
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=ensure) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert state_tables(query) == TABLES
    assert query("SELECT count(*) FROM bgmigrate.schema_version") == [(1,)]


def test_state_from_a_newer_bgmigrate_is_refused(users_db: str, query: Any) -> None:
    with psycopg.connect(users_db, autocommit=True) as conn:
        StateStore(conn).ensure()
        conn.execute("UPDATE bgmigrate.schema_version SET version = %s", [STATE_VERSION + 1])
        with pytest.raises(ExecutionError, match="newer than this bgmigrate understands"):
            StateStore(conn).ensure()


def test_status_before_the_first_apply_creates_nothing(
    users_db: str, rename_plan: Plan, query: Any
) -> None:
    status = plan_status(rename_plan, users_db)
    assert status.recorded_checksum is None
    assert [(p.name, p.status) for p in status.phases] == [
        ("expand", "pending"),
        ("backfill", "pending"),
        ("deploy", "app"),
        ("contract", "pending"),
    ]
    assert state_tables(query) == set()
