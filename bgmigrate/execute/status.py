"""Where a plan stands in a database: phases, steps, backfill progress, approvals, executor.

Read-only: `status` creates nothing, takes no lock and works before the first `apply`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bgmigrate.execute.connection import connect, one_line
from bgmigrate.execute.errors import ExecutionError
from bgmigrate.execute.locking import lock_holder
from bgmigrate.execute.state import PhaseState, StateStore
from bgmigrate.plan.model import Plan, PlanError

__all__ = ["PhaseStatus", "PlanStatus", "plan_status", "render_status"]


@dataclass(frozen=True)
class PhaseStatus:
    """`status`: pending, running, interrupted (running but no executor alive), done, failed,
    stopped, rolled back, or `app` for a phase bgmigrate does not run."""

    name: str
    kind: str
    status: str
    steps_total: int
    steps_done: int
    needs_approval: bool
    approved_by: str | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    backfill: dict[str, Any] | None


@dataclass(frozen=True)
class PlanStatus:
    plan_id: str
    checksum: str | None
    checksum_problem: str | None
    recorded_checksum: str | None
    executor: str | None
    phases: tuple[PhaseStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["phases"] = [_jsonable(asdict(phase)) for phase in self.phases]
        return {"version": 1, **data}


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def plan_status(plan: Plan, dsn: str | None) -> PlanStatus:
    import psycopg

    try:
        plan.verify_checksum()
        problem = None
    except PlanError as error:
        problem = error.problem
    try:
        with connect(dsn, application_name=f"bgmigrate status {plan.id}") as conn:
            store = StateStore(conn)
            holder = lock_holder(conn, plan.id)
            if not store.exists():
                return _status(plan, problem, None, holder and holder.describe(), {}, store)
            recorded = store.recorded_checksum(plan.id)
            states = store.phase_states(plan.id)
            return _status(plan, problem, recorded, holder and holder.describe(), states, store)
    except psycopg.Error as error:
        raise ExecutionError(
            f"cannot read the state of plan {plan.id}: {one_line(str(error))}"
        ) from None


def _status(
    plan: Plan,
    problem: str | None,
    recorded: str | None,
    executor: str | None,
    states: dict[str, PhaseState],
    store: StateStore,
) -> PlanStatus:
    has_state = recorded is not None
    approvals = store.approvals(plan.id) if has_state else []
    phases = []
    for phase in plan.phases:
        state = states.get(phase.name, PhaseState(phase.name, None))
        run = state.last_run
        label = "app" if not phase.is_db else state.label
        if label == "running" and executor is None:
            label = "interrupted"
        approval = next(
            (
                a
                for a in reversed(approvals)
                if a.phase == phase.name and a.checksum == plan.checksum
            ),
            None,
        )
        checkpoint = store.checkpoint(plan.id, phase.name) if has_state and phase.backfill else None
        phases.append(
            PhaseStatus(
                name=phase.name,
                kind=phase.kind,
                status=label,
                steps_total=len(phase.steps),
                steps_done=len(store.completed_steps(plan.id, phase.name)) if has_state else 0,
                needs_approval=phase.needs_approval,
                approved_by=approval.by if approval else None,
                started_at=run.started_at if run else None,
                finished_at=run.finished_at if run else None,
                error=run.error if run else None,
                backfill=(
                    {
                        "pass": checkpoint.pass_number,
                        "last_key": list(checkpoint.last_key) if checkpoint.last_key else None,
                        "rows_scanned": checkpoint.rows_scanned,
                        "rows_updated": checkpoint.rows_updated,
                        "batches": checkpoint.batches,
                        "pass_complete": checkpoint.pass_complete,
                    }
                    if checkpoint
                    else None
                ),
            )
        )
    return PlanStatus(plan.id, plan.checksum, problem, recorded, executor, tuple(phases))


def render_status(status: PlanStatus) -> str:
    """The status as text for a terminal or a log."""
    lines = [f"plan {status.plan_id} ({status.checksum})"]
    if status.checksum_problem:
        lines.append(f"  ! {status.checksum_problem}")
    if status.recorded_checksum is None:
        lines.append("  not applied to this database yet")
    elif status.recorded_checksum != status.checksum:
        lines.append(f"  ! this database recorded another version: {status.recorded_checksum}")
    if status.executor:
        lines.append(f"  executor running: {status.executor}")
    for phase in status.phases:
        line = f"  {phase.name:<9} {phase.status:<12}"
        if phase.kind == "db" and phase.steps_total:
            line += f" steps {phase.steps_done}/{phase.steps_total}"
        if phase.needs_approval:
            line += f"  approved by {phase.approved_by}" if phase.approved_by else "  not approved"
        if phase.backfill:
            fill = phase.backfill
            line += (
                f"  backfill pass {fill['pass']}: {fill['rows_scanned']} rows scanned, "
                f"{fill['rows_updated']} updated" + (", complete" if fill["pass_complete"] else "")
            )
        lines.append(line.rstrip())
        if phase.error and phase.status in {"failed", "stopped", "rollback failed"}:
            lines.append(f"            {phase.error}")
    return "\n".join(lines) + "\n"
