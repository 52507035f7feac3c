"""`apply --dry-run`: exactly the statements that would run, and nothing executed."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from bgmigrate.execute.dryrun import dry_run
from bgmigrate.execute.executor import apply_phase
from bgmigrate.execute.options import ApplyOptions
from bgmigrate.plan.model import Plan


def sql_lines(script: str) -> str:
    """The script without its comments and blank lines."""
    return "\n".join(
        line for line in script.splitlines() if line.strip() and not line.startswith("--")
    )


def test_dry_run_prints_each_step_with_its_transaction_and_timeouts(rename_plan: Plan) -> None:
    script = dry_run(rename_plan, "expand", options=ApplyOptions(lock_timeout=1.5))
    steps = rename_plan.phase("expand").steps
    in_transaction = [
        "BEGIN",
        "SET LOCAL lock_timeout = '1500ms'",
        "SET LOCAL statement_timeout = '300000ms'",
    ]
    expected = [*in_transaction, steps[0].sql, "COMMIT"]
    expected += [*in_transaction, steps[1].sql, "COMMIT"]
    expected += [*in_transaction, steps[2].sql, "COMMIT"]
    expected += ["SET lock_timeout = '1500ms'", "SET statement_timeout = '300000ms'"]
    expected += [steps[3].sql, "RESET lock_timeout", "RESET statement_timeout"]
    assert sql_lines(script) == "\n".join(f"{statement};" for statement in expected)
    assert "-- expand step 4/4, outside a transaction" in script
    assert "invalid one left by a failed build is dropped first" in script


def test_dry_run_names_the_gates_of_contract(rename_plan: Plan) -> None:
    script = dry_run(rename_plan, "contract")
    gates = (
        "-- gates checked first: expand done, backfill done, "
        f"an approval of {rename_plan.checksum}, the verify query of backfill true"
    )
    assert gates in script


def test_dry_run_of_the_deploy_phase_shows_its_instructions(rename_plan: Plan) -> None:
    assert "-- Deploy the version that reads and writes email_address." in dry_run(
        rename_plan, "deploy"
    )


def test_dry_run_executes_nothing(users_db: str, rename_plan: Plan, query: Any) -> None:
    dry_run(rename_plan, "expand", dsn=users_db)
    assert query("SELECT to_regnamespace('bgmigrate') IS NULL") == [(True,)]
    assert query(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'email_address'"
    ) == [(0,)]


def test_dry_run_skips_what_is_done_and_resumes_the_backfill_at_its_checkpoint(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    assert "the expand phase is already done: nothing would run" in dry_run(
        rename_plan, "expand", dsn=users_db
    )
    # a backfill that stopped after the row with id 700
    query(
        "INSERT INTO bgmigrate.backfill_checkpoints (plan_id, phase, last_key, rows_scanned)"
        " VALUES ('rename-users-email', 'backfill', '[\"700\"]', 700)"
    )
    script = dry_run(rename_plan, "backfill", dsn=users_db, options=ApplyOptions(batch_size=250))
    assert "after the checkpoint ['700']; the first batch of 250 rows:" in script
    batch = next(line for line in script.splitlines() if line.startswith("WITH batch"))
    assert """WHERE ("id") > ('700') ORDER BY "id" LIMIT 250""" in batch

    # the printed statement is the one the executor runs: it runs as printed
    with psycopg.connect(users_db) as conn:
        scanned, updated, last_key = conn.execute(batch).fetchone()
        conn.rollback()
    assert (scanned, updated, last_key) == (250, 250, ["950"])
    assert re.search(r"^-- verify: must return true", script, re.MULTILINE)
