"""Apply, approve and roll back the phases of a plan against PostgreSQL.

`apply_phase` runs one db phase: it refuses a plan whose checksum does not match its content,
takes the plan's executor lock, records the plan, skips a phase already done, checks the gates,
then runs the backfill batches (backfill phase only), the steps not yet completed, and the
verify query, recording each step with it. Failures leave the phase resumable: run the same
command again. `approve_phase` records who approved which checksum; `rollback_phase` runs the
undo statements of the completed steps of expand and backfill, newest first, until contract
has started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event
from typing import TYPE_CHECKING

from bgmigrate.execute.backfill import BackfillRunner
from bgmigrate.execute.connection import connect, one_line
from bgmigrate.execute.errors import (
    ExecutionError,
    ExecutorError,
    GateRefused,
    Interrupted,
    UsageError,
    VerifyFailed,
)
from bgmigrate.execute.gates import (
    check_approval,
    check_earlier_phases,
    check_optional_gates,
    check_verify_queries,
    run_verify,
)
from bgmigrate.execute.locking import plan_lock
from bgmigrate.execute.options import ApplyOptions, GateOptions
from bgmigrate.execute.progress import Reporter, make_reporter
from bgmigrate.execute.state import Approval, StateStore
from bgmigrate.execute.steps import concurrent_index, run_statement
from bgmigrate.plan.model import Plan, PlanError, PlanPhase, Step

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "ROLLBACK_PHASES",
    "ApplyResult",
    "RollbackResult",
    "abbreviated",
    "apply_phase",
    "approve_phase",
    "checked_plan",
    "rollback_phase",
    "step_label",
]

ROLLBACK_PHASES = ("expand", "backfill")


@dataclass(frozen=True)
class ApplyResult:
    """`outcome` is `done`, `already-done`, or `instructions` (an app phase: nothing to run)."""

    plan_id: str
    phase: str
    outcome: str
    steps_run: int = 0
    steps_skipped: int = 0
    rows_updated: int = 0


@dataclass(frozen=True)
class RollbackResult:
    """The phases rolled back, newest first, with the number of undo statements run in each."""

    plan_id: str
    undone: tuple[tuple[str, int], ...]


def checked_plan(plan: Plan, phase_name: str) -> PlanPhase:
    """The phase to run, once the plan is known to be sealed, unedited and complete."""
    plan.verify_checksum()
    if plan.blockers:
        raise PlanError(
            "the planner could not carry everything along; resolve these first and write the "
            "plan again: " + "; ".join(plan.blockers),
            "blockers",
        )
    phase = plan.phase(phase_name)
    for index, step in enumerate(phase.steps):
        if not step.transactional:
            try:
                concurrent_index(step.sql)
            except PlanError as error:
                raise error.under(f"{phase.name}.steps[{index}]") from None
    return phase


def abbreviated(sql: str, width: int = 120) -> str:
    """A statement on one line, cut to `width` characters, for progress messages."""
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def step_label(phase: PlanPhase, index: int, step: Step) -> str:
    label = f"{phase.name} step {index + 1}/{len(phase.steps)}"
    return f"{label} ({step.description})" if step.description else label


@contextmanager
def _locked_session(
    plan: Plan, dsn: str | None, action: str, reporter: Reporter, stop: Event
) -> Iterator[tuple[psycopg.Connection, StateStore]]:
    name = f"bgmigrate {action} {plan.id}"
    conn = connect(dsn, application_name=name)
    with conn:
        store = StateStore(conn)
        store.ensure()
        with plan_lock(dsn, plan.id, application_name=name, reporter=reporter, stop=stop):
            yield conn, store


@contextmanager
def _direct_connection(
    plan: Plan, phase: PlanPhase, direct_dsn: str | None
) -> Iterator[psycopg.Connection | None]:
    """A connection for the phase's non-transactional steps, when a direct DSN is given."""
    if not direct_dsn or all(step.transactional for step in phase.steps):
        yield None
        return
    with connect(direct_dsn, application_name=f"bgmigrate apply {plan.id} (direct)") as conn:
        yield conn


def _as_executor_error(what: str, error: BaseException) -> ExecutorError:
    if isinstance(error, ExecutorError):
        return error
    return ExecutionError(f"{what}: {one_line(str(error))}")


def _record_end(store: StateStore, run_id: int, status: str, error: str | None) -> None:
    import psycopg

    # When the connection is gone, status shows the run as interrupted.
    with contextlib.suppress(psycopg.Error):
        store.finish_run(run_id, status, error)


def apply_phase(
    plan: Plan,
    phase_name: str,
    dsn: str | None,
    *,
    options: ApplyOptions | None = None,
    gates: GateOptions | None = None,
    reporter: Reporter | None = None,
    stop: Event | None = None,
    direct_dsn: str | None = None,
) -> ApplyResult:
    """Run one phase of `plan`; see the module docstring. Raises PlanError (exit 2) or an
    ExecutorError carrying its exit code.

    `direct_dsn`, when given, is a connection to the same database that bypasses a transaction
    pooler: the steps that cannot run in a transaction (CONCURRENTLY) run there, with their
    timeouts set on a session that stays theirs."""
    import psycopg

    options = options or ApplyOptions()
    gates = gates or GateOptions()
    reporter = reporter or make_reporter()
    stop = stop or Event()
    phase = checked_plan(plan, phase_name)
    if not phase.is_db:
        reporter.message(
            f"the {phase.name} phase is the app's, bgmigrate has nothing to run:\n"
            f"{phase.instructions}",
            event="instructions",
        )
        return ApplyResult(plan.id, phase.name, "instructions")
    what = f"the {phase.name} phase of plan {plan.id}"
    try:
        with _locked_session(plan, dsn, "apply", reporter, stop) as (conn, store):
            _warn_about_server_version(conn, plan, reporter)
            store.register_plan(plan)
            states = store.phase_states(plan.id)
            if phase.name in states and states[phase.name].done:
                reporter.message(
                    f"the {phase.name} phase of plan {plan.id} is already done: nothing to do",
                    event="already-done",
                )
                return ApplyResult(plan.id, phase.name, "already-done")
            _check_gates(conn, store, plan, phase, states, options, gates, reporter)
            run_id = store.start_run(plan, phase.name, "apply")
            try:
                with _direct_connection(plan, phase, direct_dsn) as direct:
                    result = _run_phase(conn, store, plan, phase, options, reporter, stop, direct)
            except Interrupted as error:
                _record_end(store, run_id, "stopped", str(error))
                raise
            except (ExecutorError, psycopg.Error) as error:
                failure = _as_executor_error(what, error)
                _record_end(store, run_id, "failed", str(failure))
                raise failure from None
            store.finish_run(run_id, "done")
            reporter.message(f"the {phase.name} phase of plan {plan.id} is done", event="done")
            return result
    except psycopg.Error as error:
        raise _as_executor_error(what, error) from None


def _warn_about_server_version(conn: psycopg.Connection, plan: Plan, reporter: Reporter) -> None:
    server = conn.info.server_version // 10000
    if server < plan.pg_version:
        reporter.message(
            f"warning: plan {plan.id} was written for PostgreSQL {plan.pg_version}, this server "
            f"runs {server}: a statement may not exist in this version",
            event="warning",
        )


def _check_gates(
    conn: psycopg.Connection,
    store: StateStore,
    plan: Plan,
    phase: PlanPhase,
    states: dict,
    options: ApplyOptions,
    gates: GateOptions,
    reporter: Reporter,
) -> None:
    check_earlier_phases(plan, phase, states)
    if phase.needs_approval:
        approval = check_approval(store, plan, phase)
        reporter.message(
            f"gate passed: approved by {approval.by} at {approval.at:%Y-%m-%d %H:%M:%S %Z}",
            event="gate",
        )
    if phase.name == "contract":
        check_verify_queries(conn, plan, phase, options)
        reporter.message("gate passed: the verify queries of earlier phases hold", event="gate")
    for confirmed in check_optional_gates(conn, gates):
        reporter.message(f"gate passed: {confirmed}", event="gate")


def _run_phase(
    conn: psycopg.Connection,
    store: StateStore,
    plan: Plan,
    phase: PlanPhase,
    options: ApplyOptions,
    reporter: Reporter,
    stop: Event,
    direct: psycopg.Connection | None,
) -> ApplyResult:
    rows_updated = 0
    pass_number = None
    if phase.backfill is not None:
        checkpoint = BackfillRunner(
            conn,
            store,
            plan_id=plan.id,
            phase=phase.name,
            backfill=phase.backfill,
            options=options,
            reporter=reporter,
            stop=stop,
        ).run()
        rows_updated, pass_number = checkpoint.rows_updated, checkpoint.pass_number
    completed = set(store.completed_steps(plan.id, phase.name))
    steps_run = 0
    for index, step in enumerate(phase.steps):
        if index in completed:
            continue
        what = step_label(phase, index, step)
        if stop.is_set():
            raise Interrupted(
                f"stopped before {what}: run the same command again to resume from there"
            )
        reporter.message(f"{what}: {abbreviated(step.sql)}", event="step", sql=step.sql)
        run_statement(
            direct if direct is not None and not step.transactional else conn,
            step.sql,
            transactional=step.transactional,
            what=what,
            options=options,
            reporter=reporter,
            bookkeeping=lambda index=index, step=step: store.record_step(
                plan.id, phase.name, index, step.sql
            ),
        )
        steps_run += 1
    if phase.verify is not None:
        value = run_verify(conn, phase.verify, options)
        if value is not True:
            if phase.backfill is not None:
                store.new_pass(plan.id, phase.name)
            raise VerifyFailed(_verify_failure(phase, value, rows_updated, pass_number))
    return ApplyResult(
        plan.id,
        phase.name,
        "done",
        steps_run=steps_run,
        steps_skipped=len(completed),
        rows_updated=rows_updated,
    )


def _verify_failure(
    phase: PlanPhase, value: object, rows_updated: int, pass_number: int | None
) -> str:
    message = f"the verify query of the {phase.name} phase returned {value!r}, not true: "
    message += f"{phase.verify}. The phase is not marked done"
    if pass_number is None:
        return message + "; fix what the query checks, then run the same command again"
    return message + (
        f" (backfill pass {pass_number} updated {rows_updated} rows). Rows the app wrote behind "
        "the backfill without the sync trigger are picked up by a new pass: run the same command "
        "again. If the same rows fail again, check the backfill's set and where"
    )


def approve_phase(plan: Plan, phase_name: str, dsn: str | None, *, by: str) -> Approval:
    """Record that `by` approved `phase_name` of this exact plan (its checksum)."""
    import psycopg

    phase = checked_plan(plan, phase_name)
    if not phase.needs_approval:
        raise UsageError(
            f"the {phase.name} phase of plan {plan.id} does not need an approval "
            "(only contract, and phases that list 'approval' in requires, do)"
        )
    if not by.strip():
        raise UsageError("--by needs the name of the person approving")
    try:
        with connect(dsn, application_name=f"bgmigrate approve {plan.id}") as conn:
            store = StateStore(conn)
            store.ensure()
            store.register_plan(plan, approving=True)
            return store.approve(plan, phase.name, by.strip())
    except psycopg.Error as error:
        raise ExecutionError(f"cannot record the approval: {one_line(str(error))}") from None


def rollback_phase(
    plan: Plan,
    phase_name: str,
    dsn: str | None,
    *,
    options: ApplyOptions | None = None,
    reporter: Reporter | None = None,
    stop: Event | None = None,
) -> RollbackResult:
    """Undo `phase_name` and every later phase before contract, newest step first."""
    import psycopg

    options = options or ApplyOptions()
    reporter = reporter or make_reporter()
    stop = stop or Event()
    plan.verify_checksum()
    phase = plan.phase(phase_name)
    if phase.name not in ROLLBACK_PHASES:
        raise UsageError(
            f"the {phase.name} phase cannot be rolled back: only {', '.join(ROLLBACK_PHASES)} "
            "can, before contract starts (contract drops what the old version needs; deploy is "
            "the app's)"
        )
    start = plan.phases.index(phase)
    to_undo = [p for p in plan.phases[start:] if p.name in ROLLBACK_PHASES][::-1]
    try:
        with _locked_session(plan, dsn, "rollback", reporter, stop) as (conn, store):
            store.register_plan(plan)
            contract = store.phase_state(plan.id, "contract")
            if contract.last_run is not None:
                raise GateRefused(
                    f"the contract phase of plan {plan.id} has started ({contract.label} since "
                    f"{contract.last_run.started_at:%Y-%m-%d %H:%M:%S %Z}): the old shape may "
                    "be gone, so expand and backfill can no longer be rolled back"
                )
            work = [(p, store.completed_steps(plan.id, p.name)[::-1]) for p in to_undo]
            _check_undo_available(work)
            undone = []
            for undo_phase, indexes in work:
                if not indexes and not store.phase_state(plan.id, undo_phase.name).started:
                    continue
                count = _undo_phase(conn, store, plan, undo_phase, indexes, options, reporter, stop)
                undone.append((undo_phase.name, count))
            return RollbackResult(plan.id, tuple(undone))
    except psycopg.Error as error:
        raise ExecutionError(f"rollback of plan {plan.id}: {one_line(str(error))}") from None


def _check_undo_available(work: list[tuple[PlanPhase, list[int]]]) -> None:
    missing = [
        f"{step_label(phase, index, phase.steps[index])}: {phase.steps[index].sql}"
        for phase, indexes in work
        for index in indexes
        if phase.steps[index].undo is None
    ]
    if missing:
        raise GateRefused(
            "cannot roll back: these completed steps have no undo statement: "
            + "; ".join(missing)
            + ". Nothing was undone; reverse them by hand or add undo statements to the plan"
        )


def _undo_phase(
    conn: psycopg.Connection,
    store: StateStore,
    plan: Plan,
    phase: PlanPhase,
    indexes: list[int],
    options: ApplyOptions,
    reporter: Reporter,
    stop: Event,
) -> int:
    run_id = store.start_run(plan, phase.name, "rollback")
    try:
        for index in indexes:
            step = phase.steps[index]
            assert step.undo is not None
            what = f"undo of {step_label(phase, index, step)}"
            if stop.is_set():
                raise Interrupted(f"stopped before {what}: run the same rollback again to resume")
            reporter.message(f"{what}: {abbreviated(step.undo)}", event="undo", sql=step.undo)
            run_statement(
                conn,
                step.undo,
                transactional=step.undo_transactional,
                what=what,
                options=options,
                reporter=reporter,
                bookkeeping=lambda index=index: store.forget_step(plan.id, phase.name, index),
            )
        if phase.backfill is not None:
            store.drop_checkpoint(plan.id, phase.name)
    except ExecutorError as error:
        _record_end(
            store, run_id, "stopped" if isinstance(error, Interrupted) else "failed", str(error)
        )
        raise
    store.finish_run(run_id, "done")
    reporter.message(f"the {phase.name} phase of plan {plan.id} is rolled back", event="done")
    return len(indexes)
