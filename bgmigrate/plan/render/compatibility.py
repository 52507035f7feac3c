"""Which app version works with which schema state, and what each may do during each phase:
what the text and Markdown renderers tell the people running the deploy.

The old version (blue) works on every state up to contract; the new version (green) from the
end of the last db phase before the deploy. With `--dual-write app` (a backfill that waits for
an approval) the new version writes both shapes from expand on and the old one must be gone
before the backfill starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgmigrate.plan.model import APPROVAL, Plan, PlanPhase

__all__ = ["PhaseApps", "SchemaState", "phase_apps", "schema_states", "target_summary"]

OLD = "old version (blue)"
NEW = "new version (green)"


@dataclass(frozen=True)
class PhaseApps:
    old: str
    new: str


@dataclass(frozen=True)
class SchemaState:
    label: str
    old_works: bool
    new_works: bool


def _app_written(plan: Plan) -> bool:
    return any(p.name == "backfill" and APPROVAL in p.requires for p in plan.phases)


def _first_new_state(plan: Plan) -> int:
    """Index into `schema_states` of the first state the new version works with."""
    if _app_written(plan):
        return 1
    db_before_deploy = 0
    for phase in plan.phases:
        if phase.name == "deploy":
            break
        db_before_deploy += 1
    return db_before_deploy


def schema_states(plan: Plan) -> list[SchemaState]:
    """The schema before the plan and after each phase, with the versions that work on it."""
    labels = ["before", *(f"after {phase.name}" for phase in plan.phases)]
    first_new = _first_new_state(plan)
    last_old = len(labels) - 1 if plan.phases[-1].name != "contract" else len(labels) - 2
    if _app_written(plan):
        last_old = 1
    return [
        SchemaState(label, index <= last_old, index >= first_new)
        for index, label in enumerate(labels)
    ]


def phase_apps(plan: Plan, phase: PlanPhase) -> PhaseApps:
    app_written = _app_written(plan)
    if phase.name == "expand":
        return PhaseApps(
            "keeps running, unchanged",
            "may be deployed once expand is done: it writes both shapes"
            if app_written
            else "not deployed yet",
        )
    if phase.name == "backfill":
        if app_written:
            return PhaseApps(
                "must be gone: the backfill's approval records it", "runs, writing both shapes"
            )
        return PhaseApps(
            "keeps running, unchanged", "not deployed yet: deploy it once the verify query holds"
        )
    if phase.name == "deploy":
        return PhaseApps("replaced instance by instance, working meanwhile", "rolled out")
    return PhaseApps(
        "retired: contract runs only with an approval that it is gone", "the only version"
    )


def target_summary(plan: Plan) -> str:
    """`public.users.email → email_address`, `public.orders.quantity as bigint`, …"""
    target = plan.target
    text = str(target.get("table", ""))
    if "column" in target:
        text += f".{target['column']}"
    if "columns" in target:
        text += f" ({', '.join(map(str, target['columns']))})"
    if "to" in target:
        text += f" → {target['to']}"
    if "type" in target:
        text += f" as {target['type']}"
    if "into" in target:
        text += f" into {target['into']}"
    if "references" in target:
        text += f" → {target['references']}"
    return text
