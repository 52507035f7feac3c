"""One plan over a fleet: many databases, or many tenant schemas, canaried and in parallel.

`apply_fleet` runs one phase on every target with `apply_phase`, each target keeping its own
state, gates and lock in its own database, so the same command run again after a crash picks
every target up where it stopped (finished ones say "already done"). The first `canary`
targets complete the phase before any other starts; a failure stops the rollout there. After
that, `parallel` targets run at a time, and the first failure stops new targets from starting
unless `keep_going`. A tenant schema without the plan's table is skipped before anything runs
in it. A phase that needs an approval (contract) starts nowhere until every target has
completed the phases before it and holds the approval: the refusal names the targets.
`rollback_fleet` runs `rollback_phase` over the targets the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event
from typing import TYPE_CHECKING

from bgmigrate.execute.connection import connect, one_line, redact_dsn
from bgmigrate.execute.errors import ExecutionError, ExecutorError, GateRefused, UsageError
from bgmigrate.execute.executor import apply_phase, approve_phase, checked_plan, rollback_phase
from bgmigrate.execute.gates import check_approval, check_earlier_phases
from bgmigrate.execute.options import ApplyOptions, GateOptions
from bgmigrate.execute.progress import Reporter
from bgmigrate.execute.state import Approval, StateStore
from bgmigrate.execute.targets import Target
from bgmigrate.execute.tenants import plan_for_schema, plan_table
from bgmigrate.plan.model import Plan, PlanError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "FINISHED",
    "FleetDisplay",
    "FleetOptions",
    "FleetResult",
    "TargetOutcome",
    "apply_fleet",
    "approve_fleet",
    "missing_table",
    "rollback_fleet",
    "run_fleet",
    "target_plan",
]

FINISHED = ("done", "already-done", "instructions")
"""Outcomes of a target that has the phase behind it."""


@dataclass(frozen=True)
class FleetOptions:
    parallel: int = 1
    canary: int = 0
    keep_going: bool = False

    def __post_init__(self) -> None:
        if self.parallel < 1:
            raise UsageError("--parallel must be at least 1")
        if self.canary < 0:
            raise UsageError("--canary cannot be negative")


@dataclass(frozen=True)
class TargetOutcome:
    """`outcome`: done, already-done, instructions, skipped (not a target of the plan: no
    table), failed, or not-started (the rollout stopped first). `reason` says why for the
    last three; `exit_code` is the failure's."""

    target: Target
    outcome: str
    reason: str | None = None
    exit_code: int = 0


@dataclass(frozen=True)
class FleetResult:
    """`action`: the phase applied, or `rollback of PHASE`."""

    action: str
    outcomes: tuple[TargetOutcome, ...]

    def count(self, *outcomes: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.outcome in outcomes)

    @property
    def exit_code(self) -> int:
        """0 when every target finished (or was skipped); else the first failure's code."""
        codes = [o.exit_code for o in self.outcomes if o.outcome in ("failed", "not-started")]
        return next((code for code in codes if code), 0)

    def summary(self) -> str:
        lines = [
            f"{self.action} over {len(self.outcomes)} targets: "
            f"{self.count(*FINISHED)} done ({self.count('already-done')} already before), "
            f"{self.count('skipped')} skipped, {self.count('failed')} failed, "
            f"{self.count('not-started')} not started"
        ]
        for outcome in self.outcomes:
            if outcome.outcome in ("failed", "skipped", "not-started"):
                lines.append(f"  {outcome.outcome}: {outcome.target.label}: {outcome.reason}")
        return "\n".join(lines) + "\n"


class FleetDisplay:
    """What the operator sees of a fleet run; see bgmigrate.execute.fleet_progress."""

    def reporter(self, target: Target) -> Reporter:
        raise NotImplementedError

    def finished(self, outcome: TargetOutcome) -> None:
        raise NotImplementedError

    @contextmanager
    def running(self, targets: Sequence[Target]) -> Iterator[None]:
        yield


def target_plan(plan: Plan, target: Target) -> Plan:
    """The plan as it runs on `target`: rewritten for its schema when it has one."""
    return plan_for_schema(plan, target.schema) if target.schema else plan


def _table_exists(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()
    return bool(row and row[0])


def missing_table(target: Target, plan: Plan) -> str | None:
    """Why `target` is not a target of `plan`: its schema lacks the table. None otherwise."""
    import psycopg

    if target.schema is None:
        return None
    table = plan_table(plan)
    try:
        with connect(target.dsn, application_name=f"bgmigrate apply {plan.id}") as conn:
            if _table_exists(conn, table):
                return None
    except psycopg.Error as error:
        raise ExecutionError(f"cannot look for table {table}: {one_line(str(error))}") from None
    return f"schema {target.schema} has no table {table.split('.', 1)[-1]}: nothing was run there"


def _on_target(plan: Plan, target: Target, run: Callable[[Plan, Target], str]) -> TargetOutcome:
    """`run` (returning the outcome) on `target` with the plan rewritten for it, unless it is a
    schema without the plan's table; a failure becomes the target's outcome."""
    try:
        the_plan = target_plan(plan, target)
        missing = missing_table(target, the_plan)
        if missing is not None:
            return TargetOutcome(target, "skipped", missing)
        return TargetOutcome(target, run(the_plan, target))
    except (PlanError, ExecutorError) as error:
        return TargetOutcome(target, "failed", redact_dsn(str(error)), error.exit_code)


def _run_wave(
    targets: Sequence[Target],
    work: Callable[[Target], TargetOutcome],
    *,
    parallel: int,
    halt: Event,
    stop: Event,
    keep_going: bool,
    display: FleetDisplay,
) -> dict[Target, TargetOutcome]:
    """Run `work` on `targets`, `parallel` at a time, in order; no new target starts once
    `halt` is set (by a failure, unless `keep_going`) or `stop` (by a signal)."""
    outcomes: dict[Target, TargetOutcome] = {}
    pending = list(targets)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if halt.is_set() or stop.is_set() or not pending:
                    return
                target = pending.pop(0)
            outcome = work(target)
            with lock:
                outcomes[target] = outcome
                if outcome.outcome == "failed" and not keep_going:
                    halt.set()
            display.finished(outcome)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def run_fleet(
    action: str,
    targets: Sequence[Target],
    work: Callable[[Target], TargetOutcome],
    *,
    fleet: FleetOptions,
    display: FleetDisplay,
    stop: Event,
) -> FleetResult:
    """`work` on every target: the canaries first, then the rest `fleet.parallel` at a time."""
    halt = Event()
    canaries, rest = list(targets[: fleet.canary]), list(targets[fleet.canary :])
    outcomes: dict[Target, TargetOutcome] = {}
    with display.running(targets):
        for wave, keep_going in ((canaries, False), (rest, fleet.keep_going)):
            if halt.is_set() or stop.is_set():
                break
            outcomes |= _run_wave(
                wave,
                work,
                parallel=fleet.parallel,
                halt=halt,
                stop=stop,
                keep_going=keep_going,
                display=display,
            )
    first_failure = next(
        (o for t in targets if (o := outcomes.get(t)) and o.outcome == "failed"), None
    )
    reason = (
        f"the rollout stopped after {first_failure.target.label} failed"
        if first_failure
        else "the rollout was stopped by a signal"
    )
    code = first_failure.exit_code if first_failure else 3
    return FleetResult(
        action,
        tuple(outcomes.get(t) or TargetOutcome(t, "not-started", reason, code) for t in targets),
    )


def apply_fleet(
    plan: Plan,
    phase_name: str,
    targets: Sequence[Target],
    *,
    fleet: FleetOptions,
    options: ApplyOptions,
    gates: GateOptions,
    display: FleetDisplay,
    stop: Event,
) -> FleetResult:
    """Run one phase of `plan` on every target; see the module docstring."""
    phase = checked_plan(plan, phase_name)
    if phase.needs_approval:
        _check_fleet_ready(plan, phase_name, targets)

    def apply(the_plan: Plan, target: Target) -> str:
        return apply_phase(
            the_plan,
            phase.name,
            target.dsn,
            options=options,
            gates=gates,
            reporter=display.reporter(target),
            stop=stop,
        ).outcome

    def work(target: Target) -> TargetOutcome:
        return _on_target(plan, target, apply)

    return run_fleet(phase.name, targets, work, fleet=fleet, display=display, stop=stop)


def rollback_fleet(
    plan: Plan,
    phase_name: str,
    targets: Sequence[Target],
    *,
    fleet: FleetOptions,
    options: ApplyOptions,
    display: FleetDisplay,
    stop: Event,
) -> FleetResult:
    """Roll `phase_name` back on every target (`rollback_phase`): `done` where something was
    undone, `already-done` where nothing had run."""
    plan.verify_checksum()

    def rollback(the_plan: Plan, target: Target) -> str:
        result = rollback_phase(
            the_plan,
            phase_name,
            target.dsn,
            options=options,
            reporter=display.reporter(target),
            stop=stop,
        )
        return "done" if result.undone else "already-done"

    def work(target: Target) -> TargetOutcome:
        return _on_target(plan, target, rollback)

    action = f"rollback of {phase_name}"
    return run_fleet(action, targets, work, fleet=fleet, display=display, stop=stop)


def _check_fleet_ready(plan: Plan, phase_name: str, targets: Sequence[Target]) -> None:
    """Every target has completed the phases before `phase_name` and holds its approval."""
    import psycopg

    problems = []
    for target in targets:
        the_plan = target_plan(plan, target)
        phase = the_plan.phase(phase_name)
        try:
            with connect(target.dsn, application_name=f"bgmigrate apply {the_plan.id}") as conn:
                if target.schema and not _table_exists(conn, plan_table(the_plan)):
                    continue
                store = StateStore(conn)
                states = store.phase_states(the_plan.id) if store.exists() else {}
                check_earlier_phases(the_plan, phase, states)
                if store.exists():
                    check_approval(store, the_plan, phase)
                else:
                    raise GateRefused("bgmigrate has never run there")
        except GateRefused as refusal:
            problems.append(f"{target.label}: {refusal}")
        except psycopg.Error as error:
            problems.append(f"{target.label}: cannot read its state: {one_line(str(error))}")
    if problems:
        raise GateRefused(
            f"the {phase_name} phase of plan {plan.id} starts on no target until all are ready; "
            f"{len(problems)} of {len(targets)} are not: " + " | ".join(problems)
        )


def approve_fleet(
    plan: Plan, phase_name: str, targets: Sequence[Target], *, by: str
) -> list[tuple[Target, Approval | None]]:
    """Record the approval on every target; None for a schema skipped for lack of the table."""
    approvals: list[tuple[Target, Approval | None]] = []
    for target in targets:
        the_plan = target_plan(plan, target)
        if missing_table(target, the_plan) is not None:
            approvals.append((target, None))
            continue
        try:
            approval = approve_phase(the_plan, phase_name, target.dsn, by=by)
        except ExecutorError as error:
            raise type(error)(f"{target.label}: {error}") from None
        approvals.append((target, approval))
    return approvals
