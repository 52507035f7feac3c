"""`status` over a fleet: one row per target (and schema), read-only, without passwords."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bgmigrate.execute.connection import redact_dsn
from bgmigrate.execute.errors import ExecutorError
from bgmigrate.execute.fleet import missing_table, target_plan
from bgmigrate.execute.status import PlanStatus, plan_status
from bgmigrate.execute.targets import Target
from bgmigrate.plan.model import Plan, PlanError

__all__ = ["TargetStatus", "fleet_status", "fleet_status_json", "render_fleet_status"]


@dataclass(frozen=True)
class TargetStatus:
    """One row of `status` over a fleet: where the plan stands on one target."""

    target: Target
    phase: str | None
    status: str
    steps_done: int
    steps_total: int
    backfill: dict[str, Any] | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.database,
            "schema": self.target.schema,
            "phase": self.phase,
            "status": self.status,
            "steps_done": self.steps_done,
            "steps_total": self.steps_total,
            "backfill": self.backfill,
            "error": self.error,
        }


def _row(target: Target, status: PlanStatus) -> TargetStatus:
    """The latest phase that has started, or the first phase when none has."""
    db_phases = [phase for phase in status.phases if phase.kind == "db"]
    started = [phase for phase in db_phases if phase.status != "pending"]
    current = started[-1] if started else db_phases[0] if db_phases else None
    if current is None:
        return TargetStatus(target, None, "pending", 0, 0, None, None)
    backfill = next((phase.backfill for phase in reversed(started) if phase.backfill), None)
    error = current.error if current.status not in ("done", "running") else None
    return TargetStatus(
        target,
        current.name,
        current.status,
        current.steps_done,
        current.steps_total,
        backfill,
        redact_dsn(error) if error else None,
    )


def fleet_status(plan: Plan, targets: Sequence[Target]) -> list[TargetStatus]:
    """One row per target, read-only; a target that cannot be read gets a row saying why."""
    rows = []
    for target in targets:
        try:
            the_plan = target_plan(plan, target)
            if missing_table(target, the_plan) is not None:
                rows.append(TargetStatus(target, None, "no table", 0, 0, None, None))
                continue
            rows.append(_row(target, plan_status(the_plan, target.dsn)))
        except (PlanError, ExecutorError) as error:
            rows.append(
                TargetStatus(target, None, "unreadable", 0, 0, None, redact_dsn(str(error)))
            )
    return rows


def fleet_status_json(plan: Plan, rows: Sequence[TargetStatus]) -> dict[str, Any]:
    return {
        "version": 1,
        "plan_id": plan.id,
        "checksum": plan.checksum,
        "targets": [row.to_dict() for row in rows],
    }


def render_fleet_status(plan: Plan, rows: Sequence[TargetStatus]) -> str:
    """One line per target: target, schema, phase, status, steps, backfill; errors below."""
    lines = [f"plan {plan.id} ({plan.checksum}) on {len(rows)} targets"]
    for row in rows:
        parts = [row.target.label, f"{row.phase or '-'} {row.status}"]
        if row.steps_total:
            parts.append(f"steps {row.steps_done}/{row.steps_total}")
        if row.backfill:
            fill = row.backfill
            parts.append(
                f"backfill {fill['rows_scanned']} rows scanned"
                + (", complete" if fill["pass_complete"] else "")
            )
        lines.append("  " + "  ".join(parts))
        if row.error:
            lines.append(f"      {row.error}")
    return "\n".join(lines) + "\n"
