"""The executor's memory, kept in the target database itself (schema `bgmigrate`).

It records which plans were seen (with their checksum and body), every run of a phase, each
completed step, approvals of an exact checksum, and backfill checkpoints. Writes that go with a
step or a batch take the caller's transaction, so the record and the change commit together.

The schema is created on first use and versioned (`bgmigrate.schema_version`): a later
bgmigrate appends a migration to `_MIGRATIONS` and upgrades the state in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bgmigrate.execute.connection import one_line
from bgmigrate.execute.errors import ExecutionError
from bgmigrate.plan.model import Plan, PlanError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "STATE_SCHEMA",
    "STATE_VERSION",
    "Approval",
    "Checkpoint",
    "PhaseRun",
    "PhaseState",
    "StateStore",
    "advisory_key",
]

STATE_SCHEMA = "bgmigrate"

_MIGRATIONS: tuple[str, ...] = (
    # version 1
    """
    CREATE TABLE bgmigrate.plans (
        id text PRIMARY KEY,
        checksum text NOT NULL,
        operation text NOT NULL,
        body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE bgmigrate.phase_runs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        plan_id text NOT NULL REFERENCES bgmigrate.plans (id),
        phase text NOT NULL,
        action text NOT NULL CHECK (action IN ('apply', 'rollback')),
        checksum text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'done', 'failed', 'stopped')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        pid integer NOT NULL DEFAULT pg_backend_pid(),
        error text
    );
    CREATE INDEX phase_runs_plan_phase ON bgmigrate.phase_runs (plan_id, phase, id);
    CREATE TABLE bgmigrate.completed_steps (
        plan_id text NOT NULL REFERENCES bgmigrate.plans (id),
        phase text NOT NULL,
        step integer NOT NULL,
        sql text NOT NULL,
        completed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (plan_id, phase, step)
    );
    CREATE TABLE bgmigrate.approvals (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        plan_id text NOT NULL REFERENCES bgmigrate.plans (id),
        checksum text NOT NULL,
        phase text NOT NULL,
        approved_by text NOT NULL,
        approved_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE bgmigrate.backfill_checkpoints (
        plan_id text NOT NULL REFERENCES bgmigrate.plans (id),
        phase text NOT NULL,
        pass integer NOT NULL DEFAULT 1,
        last_key jsonb,
        rows_scanned bigint NOT NULL DEFAULT 0,
        rows_updated bigint NOT NULL DEFAULT 0,
        batches bigint NOT NULL DEFAULT 0,
        pass_complete boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (plan_id, phase)
    );
    COMMENT ON COLUMN bgmigrate.backfill_checkpoints.last_key IS
        'text form of the key columns of the last row of the last committed batch of this pass';
    """,
)
STATE_VERSION = len(_MIGRATIONS)


def advisory_key(name: str) -> int:
    """A signed 64-bit advisory lock key for `name`, unlikely to collide with an app's keys."""
    digest = hashlib.sha256(f"bgmigrate:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class PhaseRun:
    id: int
    phase: str
    action: str
    checksum: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pid: int
    error: str | None


@dataclass(frozen=True)
class PhaseState:
    """Where a phase stands, from its latest run."""

    phase: str
    last_run: PhaseRun | None

    @property
    def done(self) -> bool:
        run = self.last_run
        return run is not None and run.action == "apply" and run.status == "done"

    @property
    def started(self) -> bool:
        """Applied at least in part and not rolled back since."""
        run = self.last_run
        return run is not None and not (run.action == "rollback" and run.status == "done")

    @property
    def label(self) -> str:
        run = self.last_run
        if run is None:
            return "pending"
        if run.action == "rollback":
            return "rolled back" if run.status == "done" else f"rollback {run.status}"
        return run.status


@dataclass(frozen=True)
class Approval:
    plan_id: str
    checksum: str
    phase: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Checkpoint:
    """A backfill's progress in its current pass; `last_key` is None before the first batch."""

    pass_number: int
    last_key: tuple[str, ...] | None
    rows_scanned: int
    rows_updated: int
    batches: int
    pass_complete: bool


class StateStore:
    """Reads and writes the `bgmigrate` schema over one autocommit connection."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    # -- schema ----------------------------------------------------------------------------

    def exists(self) -> bool:
        row = self.conn.execute(
            "SELECT to_regclass('bgmigrate.schema_version') IS NOT NULL"
        ).fetchone()
        return bool(row and row[0])

    def ensure(self) -> None:
        """Create or upgrade the state schema; concurrent executors serialise on a lock."""
        import psycopg

        try:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_key("state")])
                self.conn.execute("CREATE SCHEMA IF NOT EXISTS bgmigrate")
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS bgmigrate.schema_version ("
                    " singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
                    " version integer NOT NULL,"
                    " updated_at timestamptz NOT NULL DEFAULT now())"
                )
                row = self.conn.execute("SELECT version FROM bgmigrate.schema_version").fetchone()
                current = row[0] if row else 0
                if current > STATE_VERSION:
                    raise ExecutionError(
                        f"the bgmigrate state schema is at version {current}, newer than this "
                        f"bgmigrate understands ({STATE_VERSION}): upgrade bgmigrate"
                    )
                for migration in _MIGRATIONS[current:]:
                    self.conn.execute(migration)
                self.conn.execute(
                    "INSERT INTO bgmigrate.schema_version (version) VALUES (%s)"
                    " ON CONFLICT (singleton) DO UPDATE SET version = excluded.version,"
                    " updated_at = now()",
                    [STATE_VERSION],
                )
        except psycopg.Error as error:
            raise ExecutionError(
                f"cannot create the state schema bgmigrate: {one_line(str(error))}. Grant this "
                "user CREATE on the database, or create schema bgmigrate owned by it"
            ) from None

    # -- plans -----------------------------------------------------------------------------

    def recorded_checksum(self, plan_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT checksum FROM bgmigrate.plans WHERE id = %s", [plan_id]
        ).fetchone()
        return row[0] if row else None

    def register_plan(self, plan: Plan, *, approving: bool = False) -> None:
        """Record `plan`, or accept a new revision of it when that is safe.

        A revision is refused when the recorded one was approved (unless this is a new
        approval), or when it changes a phase that has already run.
        """
        assert plan.checksum is not None
        with self.conn.transaction():
            row = self.conn.execute(
                "SELECT checksum, body FROM bgmigrate.plans WHERE id = %s FOR UPDATE", [plan.id]
            ).fetchone()
            body = plan.to_dict()
            if row is None:
                self.conn.execute(
                    "INSERT INTO bgmigrate.plans (id, checksum, operation, body)"
                    " VALUES (%s, %s, %s, %s)",
                    [plan.id, plan.checksum, plan.operation, json.dumps(body)],
                )
                return
            recorded_checksum, recorded_body = row
            if recorded_checksum == plan.checksum:
                return
            self._check_revision(plan, recorded_checksum, recorded_body, approving=approving)
            self.conn.execute(
                "UPDATE bgmigrate.plans SET checksum = %s, operation = %s, body = %s,"
                " updated_at = now() WHERE id = %s",
                [plan.checksum, plan.operation, json.dumps(body), plan.id],
            )

    def _check_revision(
        self, plan: Plan, recorded_checksum: str, recorded_body: dict[str, Any], *, approving: bool
    ) -> None:
        approvals = [a for a in self.approvals(plan.id) if a.checksum == recorded_checksum]
        if approvals and not approving:
            first = approvals[0]
            raise PlanError(
                f"plan {plan.id} was approved by {first.by} at {first.at:%Y-%m-%d %H:%M:%S %Z} "
                f"as {recorded_checksum}; this file is {plan.checksum}: it changed after the "
                "approval. Restore the approved file, or review the change and approve it again "
                f"(bgmigrate approve PLAN --phase {first.phase} --by NAME)",
                "checksum",
            )
        recorded_phases = {phase["name"]: phase for phase in recorded_body.get("phases", [])}
        current_phases = {phase["name"]: phase for phase in plan.to_dict()["phases"]}
        for name, state in self.phase_states(plan.id).items():
            if state.started and recorded_phases.get(name) != current_phases.get(name):
                raise PlanError(
                    f"the {name} phase of plan {plan.id} already ran as written in "
                    f"{recorded_checksum}, and this file ({plan.checksum}) changes it. Roll the "
                    "phase back first, or write the change as a new plan with its own id",
                    f"phases.{name}",
                )

    # -- phase runs ------------------------------------------------------------------------

    def phase_states(self, plan_id: str) -> dict[str, PhaseState]:
        """The latest run of every phase of `plan_id` that has one."""
        rows = self.conn.execute(
            "SELECT DISTINCT ON (phase) id, phase, action, checksum, status, started_at,"
            " finished_at, pid, error FROM bgmigrate.phase_runs WHERE plan_id = %s"
            " ORDER BY phase, id DESC",
            [plan_id],
        ).fetchall()
        return {row[1]: PhaseState(row[1], PhaseRun(*row)) for row in rows}

    def phase_state(self, plan_id: str, phase: str) -> PhaseState:
        return self.phase_states(plan_id).get(phase, PhaseState(phase, None))

    def start_run(self, plan: Plan, phase: str, action: str) -> int:
        row = self.conn.execute(
            "INSERT INTO bgmigrate.phase_runs (plan_id, phase, action, checksum, status)"
            " VALUES (%s, %s, %s, %s, 'running') RETURNING id",
            [plan.id, phase, action, plan.checksum],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        self.conn.execute(
            "UPDATE bgmigrate.phase_runs SET status = %s, error = %s, finished_at = now()"
            " WHERE id = %s",
            [status, error, run_id],
        )

    # -- steps -----------------------------------------------------------------------------

    def completed_steps(self, plan_id: str, phase: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT step FROM bgmigrate.completed_steps WHERE plan_id = %s AND phase = %s"
            " ORDER BY step",
            [plan_id, phase],
        ).fetchall()
        return [row[0] for row in rows]

    def record_step(self, plan_id: str, phase: str, index: int, sql: str) -> None:
        """Mark step `index` (from 0) done; call it inside the step's own transaction."""
        self.conn.execute(
            "INSERT INTO bgmigrate.completed_steps (plan_id, phase, step, sql)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [plan_id, phase, index, sql],
        )

    def forget_step(self, plan_id: str, phase: str, index: int) -> None:
        """Mark step `index` undone; call it inside the undo statement's transaction."""
        self.conn.execute(
            "DELETE FROM bgmigrate.completed_steps WHERE plan_id = %s AND phase = %s AND step = %s",
            [plan_id, phase, index],
        )

    # -- approvals -------------------------------------------------------------------------

    def approvals(self, plan_id: str) -> list[Approval]:
        rows = self.conn.execute(
            "SELECT plan_id, checksum, phase, approved_by, approved_at FROM bgmigrate.approvals"
            " WHERE plan_id = %s ORDER BY id",
            [plan_id],
        ).fetchall()
        return [Approval(*row) for row in rows]

    def approve(self, plan: Plan, phase: str, by: str) -> Approval:
        row = self.conn.execute(
            "INSERT INTO bgmigrate.approvals (plan_id, checksum, phase, approved_by)"
            " VALUES (%s, %s, %s, %s)"
            " RETURNING plan_id, checksum, phase, approved_by, approved_at",
            [plan.id, plan.checksum, phase, by],
        ).fetchone()
        assert row is not None
        return Approval(*row)

    # -- backfill checkpoints --------------------------------------------------------------

    def checkpoint(self, plan_id: str, phase: str) -> Checkpoint | None:
        row = self.conn.execute(
            "SELECT pass, last_key, rows_scanned, rows_updated, batches, pass_complete"
            " FROM bgmigrate.backfill_checkpoints WHERE plan_id = %s AND phase = %s",
            [plan_id, phase],
        ).fetchone()
        if row is None:
            return None
        pass_number, last_key, scanned, updated, batches, complete = row
        key = tuple(last_key) if last_key is not None else None
        return Checkpoint(pass_number, key, scanned, updated, batches, complete)

    def open_checkpoint(self, plan_id: str, phase: str) -> Checkpoint:
        """The checkpoint of the current pass, created at the start of the table if none."""
        self.conn.execute(
            "INSERT INTO bgmigrate.backfill_checkpoints (plan_id, phase) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING",
            [plan_id, phase],
        )
        checkpoint = self.checkpoint(plan_id, phase)
        assert checkpoint is not None
        return checkpoint

    def advance_checkpoint(
        self, plan_id: str, phase: str, last_key: tuple[str, ...], scanned: int, updated: int
    ) -> None:
        """Move past one batch; call it inside the batch's own transaction."""
        self.conn.execute(
            "UPDATE bgmigrate.backfill_checkpoints SET last_key = %s,"
            " rows_scanned = rows_scanned + %s, rows_updated = rows_updated + %s,"
            " batches = batches + 1, updated_at = now() WHERE plan_id = %s AND phase = %s",
            [json.dumps(list(last_key)), scanned, updated, plan_id, phase],
        )

    def complete_pass(self, plan_id: str, phase: str) -> None:
        self.conn.execute(
            "UPDATE bgmigrate.backfill_checkpoints SET pass_complete = true, updated_at = now()"
            " WHERE plan_id = %s AND phase = %s",
            [plan_id, phase],
        )

    def new_pass(self, plan_id: str, phase: str) -> None:
        """Start the next pass from the beginning of the table (after a failed verify)."""
        self.conn.execute(
            "UPDATE bgmigrate.backfill_checkpoints SET pass = pass + 1, last_key = NULL,"
            " rows_scanned = 0, rows_updated = 0, batches = 0, pass_complete = false,"
            " updated_at = now() WHERE plan_id = %s AND phase = %s",
            [plan_id, phase],
        )

    def drop_checkpoint(self, plan_id: str, phase: str) -> None:
        self.conn.execute(
            "DELETE FROM bgmigrate.backfill_checkpoints WHERE plan_id = %s AND phase = %s",
            [plan_id, phase],
        )
