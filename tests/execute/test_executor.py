"""apply / approve / rollback against a real PostgreSQL, with the rename plan of plans.md."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import psycopg
import pytest

from bgmigrate.execute.errors import (
    ExecutionError,
    ExecutorBusy,
    GateRefused,
    UsageError,
    VerifyFailed,
)
from bgmigrate.execute.executor import apply_phase, approve_phase, rollback_phase
from bgmigrate.execute.locking import plan_lock
from bgmigrate.execute.options import ApplyOptions
from bgmigrate.plan.model import Plan, PlanError, PlanPhase, Step

ROWS = 2000


def columns(query: Any) -> set[str]:
    rows = query(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = 'users'"
    )
    return {row[0] for row in rows}


def latest_runs(query: Any) -> dict[str, tuple[str, str]]:
    rows = query(
        "SELECT DISTINCT ON (phase) phase, action, status FROM bgmigrate.phase_runs"
        " ORDER BY phase, id DESC"
    )
    return {phase: (action, status) for phase, action, status in rows}


def with_phase(plan: Plan, name: str, **changes: Any) -> Plan:
    phases = [dataclasses.replace(p, **changes) if p.name == name else p for p in plan.phases]
    return dataclasses.replace(plan, phases=phases).with_checksum()


def test_phases_apply_in_order_and_complete_the_rename(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    assert apply_phase(rename_plan, "expand", users_db, reporter=reporter).outcome == "done"
    backfill = apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    assert backfill.rows_updated == ROWS
    deploy = apply_phase(rename_plan, "deploy", users_db, reporter=reporter)
    assert deploy.outcome == "instructions"
    approve_phase(rename_plan, "contract", users_db, by="alice")
    contract = apply_phase(rename_plan, "contract", users_db, reporter=reporter)

    assert contract.steps_run == 3
    assert columns(query) == {"id", "email_address", "updates"}
    assert query("SELECT count(*) FROM public.users WHERE email_address IS NULL") == [(0,)]
    assert latest_runs(query) == {
        "expand": ("apply", "done"),
        "backfill": ("apply", "done"),
        "contract": ("apply", "done"),
    }
    assert query("SELECT count(*) FROM bgmigrate.completed_steps") == [(7,)]


def test_dual_write_trigger_keeps_both_columns_in_sync_after_expand(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    query("INSERT INTO public.users (id, email) VALUES (9001, 'old@app')")
    query("INSERT INTO public.users (id, email_address) VALUES (9002, 'new@app')")
    assert query("SELECT email, email_address FROM public.users WHERE id > 9000 ORDER BY id") == [
        ("old@app", "old@app"),
        ("new@app", "new@app"),
    ]


def test_rerunning_a_done_phase_does_nothing(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    again = apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    assert again.outcome == "already-done"
    assert query("SELECT count(*) FROM bgmigrate.phase_runs") == [(1,)]
    assert reporter.of("already-done")


@pytest.mark.parametrize("phase", ["backfill", "contract"])
def test_phase_before_its_predecessors_is_refused(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any, phase: str
) -> None:
    with pytest.raises(GateRefused, match="runs after expand, which is pending") as caught:
        apply_phase(rename_plan, phase, users_db, reporter=reporter)
    assert caught.value.exit_code == 1
    assert "email_address" not in columns(query)
    assert query("SELECT count(*) FROM bgmigrate.phase_runs") == [(0,)]


def test_contract_without_approval_is_refused(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    with pytest.raises(GateRefused, match="needs an approval of this exact plan"):
        apply_phase(rename_plan, "contract", users_db, reporter=reporter)
    assert "email" in columns(query)


def test_plan_edited_after_approval_is_refused(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    approve_phase(rename_plan, "contract", users_db, by="alice")
    edited = with_phase(
        rename_plan,
        "contract",
        steps=[*rename_plan.phase("contract").steps, Step(sql="DROP TABLE public.users")],
    )
    with pytest.raises(
        PlanError, match=r"approved by alice .* changed after the approval"
    ) as caught:
        apply_phase(edited, "contract", users_db, reporter=reporter)
    assert caught.value.exit_code == 2
    assert query("SELECT to_regclass('public.users') IS NOT NULL") == [(True,)]
    assert "email" in columns(query)


def test_reapproved_edit_needs_its_own_approval_for_contract(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    approve_phase(rename_plan, "contract", users_db, by="alice")
    edited = with_phase(rename_plan, "contract", steps=rename_plan.phase("contract").steps[:2])
    approve_phase(edited, "contract", users_db, by="bob")
    apply_phase(edited, "contract", users_db, reporter=reporter)
    assert "email" in columns(query)
    assert reporter.of("gate")[0]["message"].startswith("gate passed: approved by bob")


def test_plan_whose_content_does_not_match_its_checksum_is_refused(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    tampered = dataclasses.replace(
        rename_plan, phases=rename_plan.phases[:1]
    )  # checksum of the full plan kept
    with pytest.raises(PlanError, match="edited after it was written") as caught:
        apply_phase(tampered, "expand", users_db, reporter=reporter)
    assert caught.value.exit_code == 2
    assert query("SELECT to_regnamespace('bgmigrate') IS NULL") == [(True,)]


def test_changing_a_phase_that_already_ran_is_refused(
    users_db: str, rename_plan: Plan, reporter: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    steps = list(rename_plan.phase("expand").steps)
    steps[0] = dataclasses.replace(steps[0], sql=steps[0].sql.replace("text", "varchar(320)"))
    edited = with_phase(rename_plan, "expand", steps=steps)
    with pytest.raises(PlanError, match="expand phase of plan rename-users-email already ran"):
        apply_phase(edited, "backfill", users_db, reporter=reporter)


def test_changing_a_phase_that_has_not_run_is_accepted_before_approval(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    edited = with_phase(rename_plan, "backfill", verify="SELECT true")
    apply_phase(edited, "backfill", users_db, reporter=reporter)
    assert query("SELECT checksum FROM bgmigrate.plans") == [(edited.checksum,)]


def test_plan_with_blockers_is_refused(users_db: str, rename_plan: Plan, reporter: Any) -> None:
    blocked = dataclasses.replace(
        rename_plan, blockers=["view public.active_users reads email"]
    ).with_checksum()
    with pytest.raises(PlanError, match=r"view public\.active_users reads email"):
        apply_phase(blocked, "expand", users_db, reporter=reporter)


def test_second_executor_is_refused_naming_the_holder(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    with plan_lock(
        users_db,
        rename_plan.id,
        application_name="deploy-pipeline-42",
        reporter=reporter,
        stop=threading.Event(),
    ):
        ((pid,),) = query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'deploy-pipeline-42'"
        )
        started = time.monotonic()
        with pytest.raises(ExecutorBusy) as caught:
            apply_phase(rename_plan, "expand", users_db, reporter=reporter)
        assert time.monotonic() - started < 2, "the second executor must not wait"
    message = str(caught.value)
    assert caught.value.exit_code == 1
    assert f"pid {pid}" in message
    assert "'deploy-pipeline-42'" in message
    assert "connected since" in message
    # once the first one is gone, the lock is free
    assert apply_phase(rename_plan, "expand", users_db, reporter=reporter).outcome == "done"


def test_lock_contention_backs_off_retries_and_exits_3_resumably(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any, fast: ApplyOptions
) -> None:
    """A long transaction reads users; ALTER TABLE must queue behind it. The executor gives up
    within lock_timeout each time, so the app's queries queued behind it wait no longer."""
    waits: list[float] = []
    done = threading.Event()

    def app_queries() -> None:
        with psycopg.connect(users_db, autocommit=True) as app:
            while not done.is_set():
                began = time.monotonic()
                app.execute("SELECT count(*) FROM public.users WHERE id < 10")
                waits.append(time.monotonic() - began)
                time.sleep(0.01)

    with psycopg.connect(users_db) as reader:
        reader.execute("SELECT * FROM public.users LIMIT 1")  # holds ACCESS SHARE until commit
        worker = threading.Thread(target=app_queries)
        worker.start()
        try:
            with pytest.raises(ExecutionError, match="no lock within lock_timeout 200ms, 3 "):
                apply_phase(rename_plan, "expand", users_db, options=fast, reporter=reporter)
        finally:
            done.set()
            worker.join()
        reader.rollback()

    assert len(reporter.of("retry")) == 2
    # the app did queue behind the ALTER TABLE, and never for longer than lock_timeout
    assert max(waits) > fast.lock_timeout / 2
    assert max(waits) < fast.lock_timeout + 0.15, f"an app query waited {max(waits):.3f}s"
    assert latest_runs(query) == {"expand": ("apply", "failed")}
    assert query("SELECT count(*) FROM bgmigrate.completed_steps") == [(0,)]
    assert "email_address" not in columns(query)
    # resumable: once the long transaction is gone, the same command finishes the phase
    assert apply_phase(rename_plan, "expand", users_db, reporter=reporter).outcome == "done"


def test_failed_concurrent_index_build_is_dropped_and_rebuilt(
    users_db: str, reporter: Any, query: Any, fast: ApplyOptions
) -> None:
    """CREATE INDEX CONCURRENTLY waits for writers; hitting lock_timeout leaves an INVALID
    index. The retry, and the next run, drop it and build it again."""
    plan = Plan(
        id="index-users-email",
        operation="add-index",
        target={"table": "public.users", "column": "email"},
        pg_version=15,
        phases=[
            PlanPhase(
                name="expand",
                kind="db",
                steps=[
                    Step(
                        sql="CREATE INDEX CONCURRENTLY users_email_idx ON public.users (email)",
                        transactional=False,
                    )
                ],
            )
        ],
    ).with_checksum()
    with psycopg.connect(users_db) as writer:
        writer.execute("UPDATE public.users SET email = email WHERE id = 1")
        with pytest.raises(ExecutionError) as caught:
            apply_phase(plan, "expand", users_db, options=fast, reporter=reporter)
        writer.rollback()
    assert caught.value.exit_code == 3
    assert len(reporter.of("invalid-index")) == 2  # before each retry
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.users_email_idx'::regclass"
    assert query(valid) == [(False,)]

    apply_phase(plan, "expand", users_db, reporter=reporter)
    assert query(valid) == [(True,)]
    assert len(reporter.of("invalid-index")) == 3


def test_concurrent_index_already_built_is_not_built_again(
    users_db: str, reporter: Any, query: Any
) -> None:
    """A crash between the build and its record: the rerun finds the valid index and moves on
    (the step has no IF NOT EXISTS, so running it again would fail)."""
    sql = "CREATE INDEX CONCURRENTLY users_email_idx ON public.users (email)"
    plan = Plan(
        id="index-users-email",
        operation="add-index",
        target={"table": "public.users"},
        pg_version=15,
        phases=[PlanPhase(name="expand", kind="db", steps=[Step(sql=sql, transactional=False)])],
    ).with_checksum()
    query(sql)
    assert apply_phase(plan, "expand", users_db, reporter=reporter).steps_run == 1
    assert "already exists and is valid" in reporter.events[-2]["message"]


def test_unnamed_concurrent_index_is_a_plan_error(users_db: str, reporter: Any) -> None:
    plan = Plan(
        id="index-users-email",
        operation="add-index",
        target={"table": "public.users"},
        pg_version=15,
        phases=[
            PlanPhase(
                name="expand",
                kind="db",
                steps=[
                    Step(
                        sql="CREATE INDEX CONCURRENTLY ON public.users (email)", transactional=False
                    )
                ],
            )
        ],
    ).with_checksum()
    with pytest.raises(PlanError, match="needs an index name") as caught:
        apply_phase(plan, "expand", users_db, reporter=reporter)
    assert caught.value.field == "expand.steps[0].sql"


def test_failing_step_keeps_earlier_steps_and_resumes_after_them(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    query("CREATE TABLE public.blocker (id int)")
    plan = with_phase(
        rename_plan,
        "expand",
        steps=[
            *rename_plan.phase("expand").steps[:1],
            Step(sql="CREATE TABLE public.blocker (id int)"),
        ],
    )
    with pytest.raises(ExecutionError, match=r"expand step 2/2 failed: .*already exists") as caught:
        apply_phase(plan, "expand", users_db, reporter=reporter)
    assert caught.value.exit_code == 3
    assert query("SELECT step FROM bgmigrate.completed_steps") == [(0,)]
    query("DROP TABLE public.blocker")
    result = apply_phase(plan, "expand", users_db, reporter=reporter)
    assert (result.steps_run, result.steps_skipped) == (1, 1)


def test_verify_false_leaves_the_phase_not_done(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    plan = with_phase(rename_plan, "backfill", verify="SELECT count(*) = 0 FROM public.users")
    apply_phase(plan, "expand", users_db, reporter=reporter)
    with pytest.raises(VerifyFailed, match="returned False, not true") as caught:
        apply_phase(plan, "backfill", users_db, reporter=reporter)
    assert caught.value.exit_code == 1
    assert latest_runs(query)["backfill"] == ("apply", "failed")
    # the next run starts a new pass over the table
    assert query("SELECT pass, last_key FROM bgmigrate.backfill_checkpoints") == [(2, None)]


def test_rollback_undoes_backfill_and_expand_newest_first(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    result = rollback_phase(rename_plan, "expand", users_db, reporter=reporter)

    assert result.undone == (("backfill", 0), ("expand", 4))
    undone = [event["message"].split(":")[0] for event in reporter.of("undo")]
    assert undone == [
        f"undo of expand step {n}/4" + d
        for n, d in [
            (4, ""),
            (3, " (dual write)"),
            (2, " (sync function)"),
            (1, " (the new column)"),
        ]
    ]
    assert columns(query) == {"id", "email", "updates"}
    assert query("SELECT count(*) FROM pg_trigger WHERE tgname = 'users_sync_email'") == [(0,)]
    assert query("SELECT to_regclass('public.users_email_address_idx')") == [(None,)]
    assert query("SELECT count(*) FROM bgmigrate.completed_steps") == [(0,)]
    assert query("SELECT count(*) FROM bgmigrate.backfill_checkpoints") == [(0,)]
    assert latest_runs(query) == {
        "expand": ("rollback", "done"),
        "backfill": ("rollback", "done"),
    }
    # and the plan can be applied again from the start
    assert apply_phase(rename_plan, "expand", users_db, reporter=reporter).steps_run == 4


def test_rollback_is_refused_once_contract_has_started(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    for phase in ("expand", "backfill"):
        apply_phase(rename_plan, phase, users_db, reporter=reporter)
    approve_phase(rename_plan, "contract", users_db, by="alice")
    apply_phase(rename_plan, "contract", users_db, reporter=reporter)
    with pytest.raises(GateRefused, match="contract phase of plan rename-users-email has started"):
        rollback_phase(rename_plan, "expand", users_db, reporter=reporter)
    assert "email_address" in columns(query)


def test_rollback_is_refused_when_a_completed_step_has_no_undo(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    steps = list(rename_plan.phase("expand").steps)
    steps[1] = dataclasses.replace(steps[1], undo=None)
    plan = with_phase(rename_plan, "expand", steps=steps)
    apply_phase(plan, "expand", users_db, reporter=reporter)
    with pytest.raises(GateRefused, match=r"no undo statement: expand step 2/4 \(sync function\)"):
        rollback_phase(plan, "expand", users_db, reporter=reporter)
    assert "email_address" in columns(query), "nothing is undone when one undo is missing"


@pytest.mark.parametrize("phase", ["deploy", "contract"])
def test_only_expand_and_backfill_can_be_rolled_back(
    users_db: str, rename_plan: Plan, reporter: Any, phase: str
) -> None:
    with pytest.raises(UsageError, match=f"the {phase} phase cannot be rolled back"):
        rollback_phase(rename_plan, phase, users_db, reporter=reporter)


def test_approving_a_phase_that_needs_no_approval_is_a_usage_error(
    users_db: str, rename_plan: Plan
) -> None:
    with pytest.raises(UsageError, match="does not need an approval"):
        approve_phase(rename_plan, "expand", users_db, by="alice")


def test_approval_is_recorded_with_checksum_and_name(
    users_db: str, rename_plan: Plan, query: Any
) -> None:
    approval = approve_phase(rename_plan, "contract", users_db, by="  alice ")
    assert (approval.by, approval.checksum) == ("alice", rename_plan.checksum)
    assert query("SELECT plan_id, checksum, phase, approved_by FROM bgmigrate.approvals") == [
        ("rename-users-email", rename_plan.checksum, "contract", "alice")
    ]


def test_statement_timeout_is_reported_with_a_hint(
    users_db: str, rename_plan: Plan, reporter: Any
) -> None:
    plan = with_phase(rename_plan, "expand", steps=[Step(sql="SELECT pg_sleep(2)")])
    options = ApplyOptions(statement_timeout=0.1)
    with pytest.raises(ExecutionError, match=r"statement timeout .*raise --statement-timeout"):
        apply_phase(plan, "expand", users_db, options=options, reporter=reporter)
