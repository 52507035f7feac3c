"""Fixtures for the executor tests: a users table with rows, and the rename plan of plans.md
with a trigger-based dual write, written out by hand."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bgmigrate.execute.options import ApplyOptions
from bgmigrate.execute.progress import JsonLinesReporter
from bgmigrate.plan.model import Backfill, Plan, PlanPhase, Step

ROWS = 2000

SYNC_FUNCTION = """CREATE OR REPLACE FUNCTION public.users_sync_email() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.email_address := coalesce(NEW.email_address, NEW.email);
    NEW.email := coalesce(NEW.email, NEW.email_address);
  ELSIF NEW.email IS DISTINCT FROM OLD.email THEN
    NEW.email_address := NEW.email;
  ELSIF NEW.email_address IS DISTINCT FROM OLD.email_address THEN
    NEW.email := NEW.email_address;
  END IF;
  RETURN NEW;
END $$"""


def build_rename_plan() -> Plan:
    """users.email → email_address: expand (column, sync trigger, index), backfill, deploy,
    contract."""
    return Plan(
        id="rename-users-email",
        operation="rename-column",
        target={"table": "public.users", "column": "email", "to": "email_address"},
        pg_version=15,
        phases=[
            PlanPhase(
                name="expand",
                kind="db",
                steps=[
                    Step(
                        sql="ALTER TABLE public.users ADD COLUMN IF NOT EXISTS email_address text",
                        undo="ALTER TABLE public.users DROP COLUMN IF EXISTS email_address",
                        description="the new column",
                    ),
                    Step(
                        sql=SYNC_FUNCTION,
                        undo="DROP FUNCTION IF EXISTS public.users_sync_email()",
                        description="sync function",
                    ),
                    Step(
                        sql="CREATE OR REPLACE TRIGGER users_sync_email BEFORE INSERT OR UPDATE"
                        " ON public.users FOR EACH ROW EXECUTE FUNCTION public.users_sync_email()",
                        undo="DROP TRIGGER IF EXISTS users_sync_email ON public.users",
                        description="dual write",
                    ),
                    Step(
                        sql="CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_idx"
                        " ON public.users (email_address)",
                        transactional=False,
                        undo="DROP INDEX CONCURRENTLY IF EXISTS public.users_email_address_idx",
                    ),
                ],
            ),
            PlanPhase(
                name="backfill",
                kind="db",
                backfill=Backfill(
                    table="public.users",
                    key=["id"],
                    set="email_address = email",
                    where="email_address IS DISTINCT FROM email",
                ),
                verify="SELECT count(*) = 0 FROM public.users"
                " WHERE email_address IS DISTINCT FROM email",
            ),
            PlanPhase(
                name="deploy",
                kind="app",
                instructions="Deploy the version that reads and writes email_address.",
            ),
            PlanPhase(
                name="contract",
                kind="db",
                requires=["expand", "backfill", "approval"],
                steps=[
                    Step(sql="DROP TRIGGER IF EXISTS users_sync_email ON public.users"),
                    Step(sql="DROP FUNCTION IF EXISTS public.users_sync_email()"),
                    Step(sql="ALTER TABLE public.users DROP COLUMN IF EXISTS email"),
                ],
            ),
        ],
    ).with_checksum()


@pytest.fixture
def rename_plan() -> Plan:
    return build_rename_plan()


@pytest.fixture
def plan_file(tmp_path: Path, rename_plan: Plan) -> Path:
    path = tmp_path / "rename-users-email.toml"
    path.write_text(rename_plan.to_toml())
    return path


def create_users_table(dsn: str, schema: str = "public", rows: int = ROWS) -> None:
    """`schema`.users with `rows` rows, and `updates` counting the updates of each row."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"""
            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE TABLE {schema}.users (
                id bigint PRIMARY KEY,
                email text NOT NULL,
                updates integer NOT NULL DEFAULT 0
            );
            CREATE OR REPLACE FUNCTION public.count_updates() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN NEW.updates := OLD.updates + 1; RETURN NEW; END $$;
            CREATE TRIGGER a_count_updates BEFORE UPDATE ON {schema}.users
                FOR EACH ROW EXECUTE FUNCTION public.count_updates();
            """
        )
        conn.execute(
            f"INSERT INTO {schema}.users (id, email)"
            " SELECT g, 'user' || g || '@example.com' FROM generate_series(1, %s) g",
            [rows],
        )


@pytest.fixture
def users_db(fresh_db: str) -> str:
    """A database with public.users: ROWS rows, and `updates` counting the updates of each."""
    create_users_table(fresh_db)
    return fresh_db


@pytest.fixture
def query(users_db: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one statement on the test database in its own session; return its rows."""
    import psycopg

    def run(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(users_db, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return run


class RecordingReporter(JsonLinesReporter):
    """The JSON-lines reporter writing to memory, with the events parsed back."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def of(self, event: str) -> list[dict[str, Any]]:
        return [record for record in self.events if record["event"] == event]


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


FAST = ApplyOptions(lock_timeout=0.2, retries=2, backoff_base=0.05, backoff_max=0.2)
"""Short timeouts and backoffs, so that contention tests finish quickly."""


@pytest.fixture
def fast() -> ApplyOptions:
    return FAST
