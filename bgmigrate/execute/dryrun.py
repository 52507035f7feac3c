"""`apply --dry-run`: the statements a phase would run, as a SQL script, executing nothing.

With a database the dry run reads the state (never writing it) and leaves out the steps already
done and starts the backfill at its checkpoint; without one it shows the whole phase. The
bookkeeping writes to schema `bgmigrate` and the gates are named in comments, not shown.
"""

from __future__ import annotations

from bgmigrate.execute.backfill import DEFAULT_BATCH_SIZE, batch_query
from bgmigrate.execute.connection import connect
from bgmigrate.execute.executor import checked_plan, step_label
from bgmigrate.execute.options import ApplyOptions
from bgmigrate.execute.state import Checkpoint, StateStore
from bgmigrate.execute.steps import RESET_TIMEOUTS, concurrent_index, timeout_statements
from bgmigrate.plan.model import Plan, PlanPhase

__all__ = ["dry_run"]


def _statement(sql: str) -> str:
    return sql.strip().rstrip(";").rstrip() + ";"


def dry_run(
    plan: Plan, phase_name: str, *, options: ApplyOptions | None = None, dsn: str | None = None
) -> str:
    options = options or ApplyOptions()
    phase = checked_plan(plan, phase_name)
    header = [
        f"-- bgmigrate apply --phase {phase.name}: plan {plan.id} ({plan.checksum})",
        "-- dry run: nothing was executed",
    ]
    if not phase.is_db:
        body = "\n".join(f"-- {line}" for line in (phase.instructions or "").splitlines())
        return "\n".join([*header, "-- the app does this phase; bgmigrate runs nothing:", body])
    done = False
    completed: set[int] = set()
    checkpoint: Checkpoint | None = None
    if dsn:
        with connect(dsn, application_name=f"bgmigrate dry-run {plan.id}") as conn:
            store = StateStore(conn)
            if store.exists():
                done = store.phase_state(plan.id, phase.name).done
                completed = set(store.completed_steps(plan.id, phase.name))
                checkpoint = store.checkpoint(plan.id, phase.name)
    if done:
        return "\n".join([*header, f"-- the {phase.name} phase is already done: nothing would run"])
    out = [*header, *_gate_comments(plan, phase), ""]
    if phase.backfill is not None:
        out += _backfill_lines(phase, options, checkpoint)
    for index, step in enumerate(phase.steps):
        label = step_label(phase, index, step)
        if index in completed:
            out += [f"-- {label}: already done", ""]
            continue
        if step.transactional:
            out += [f"-- {label}", "BEGIN;"]
            out += [_statement(s) for s in timeout_statements(options, local=True)]
            out += [_statement(step.sql), "COMMIT;", ""]
            continue
        out.append(f"-- {label}, outside a transaction")
        index_built = concurrent_index(step.sql)
        if index_built is not None:
            out.append(
                f"-- (skipped if index {index_built.name} exists and is valid; an invalid one "
                "left by a failed build is dropped first)"
            )
        out += [_statement(s) for s in timeout_statements(options, local=False)]
        out += [_statement(step.sql), *(_statement(s) for s in RESET_TIMEOUTS), ""]
    if phase.verify is not None:
        out += ["-- verify: must return true for the phase to be done", _statement(phase.verify)]
    return "\n".join(out).rstrip() + "\n"


def _gate_comments(plan: Plan, phase: PlanPhase) -> list[str]:
    gates = [f"{earlier.name} done" for earlier in plan.phases_before(phase.name) if earlier.is_db]
    if phase.needs_approval:
        gates.append(f"an approval of {plan.checksum}")
    if phase.name == "contract":
        gates += [
            f"the verify query of {earlier.name} true"
            for earlier in plan.phases_before(phase.name)
            if earlier.verify
        ]
    return [f"-- gates checked first: {', '.join(gates)}"] if gates else []


def _backfill_lines(
    phase: PlanPhase, options: ApplyOptions, checkpoint: Checkpoint | None
) -> list[str]:
    backfill = phase.backfill
    assert backfill is not None
    if checkpoint is not None and checkpoint.pass_complete:
        return [f"-- backfill of {backfill.table}: pass {checkpoint.pass_number} complete", ""]
    size = options.batch_size or backfill.batch_size or DEFAULT_BATCH_SIZE
    last_key = checkpoint.last_key if checkpoint else None
    where = f"after the checkpoint {list(last_key)}" if last_key else "from the start of the table"
    return [
        f"-- backfill of {backfill.table} in keyset batches on ({', '.join(backfill.key)}), "
        f"{where}; the first batch of {size} rows:",
        "BEGIN;",
        *(_statement(s) for s in timeout_statements(options, local=True)),
        _statement(batch_query(backfill, last_key, size).as_string(None)),
        "COMMIT;",
        f"-- then the same after the last key of each batch, resized towards "
        f"{options.target_batch_seconds}s a batch, until a batch finds no rows",
        "",
    ]
