"""Fleets against the embedded server: several databases, tenant schemas, a SIGKILL, canaries,
gates and status, through the CLI as a deploy script runs it."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bgmigrate.execute.errors import UsageError
from bgmigrate.execute.fleet import FleetResult, TargetOutcome
from bgmigrate.execute.fleet_progress import LinesFleetDisplay, TableFleetDisplay
from bgmigrate.execute.progress import BatchProgress
from bgmigrate.execute.targets import Target, parse_targets
from bgmigrate.execute.tenants import plan_for_schema, plan_schema
from bgmigrate.plan.model import Plan, PlanError

from .conftest import ROWS, build_rename_plan, create_users_table

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"
SLOW_BACKFILL = ("--batch-size", "20", "--target-batch-seconds", "0.02", "--pause-ratio", "1")


def with_password(dsn: str) -> str:
    """The DSN with a password: the embedded server trusts local connections and ignores it,
    which lets the tests look for it in every output."""
    params = conninfo_to_dict(dsn)
    params["password"] = PASSWORD
    return make_conninfo(**params)


@pytest.fixture
def new_database(pg_dsn: str) -> Iterator[Callable[[], str]]:
    """Makes empty databases on the test server (dropped afterwards); each call returns a DSN
    with a password in it."""
    names: list[str] = []

    def make() -> str:
        name = f"fleet_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        params = conninfo_to_dict(pg_dsn)
        params["dbname"] = name
        return with_password(make_conninfo(**params))

    yield make
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def slow_updates(dsn: str, schema: str = "public") -> None:
    """Each row update takes ~1 ms, so that a backfill lasts long enough to be killed."""
    rows(
        dsn,
        f"CREATE OR REPLACE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$;"
        f" CREATE TRIGGER b_slow BEFORE UPDATE ON {schema}.users"
        f" FOR EACH ROW EXECUTE FUNCTION public.slow()",
    )


def bgmigrate(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgmigrate.execute", *arguments],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def start(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bgmigrate.execute", *arguments],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def batches_done(dsn: str, plan_id: str) -> int:
    if not rows(dsn, "SELECT to_regclass('bgmigrate.backfill_checkpoints')")[0][0]:
        return 0
    found = rows(
        dsn, f"SELECT batches FROM bgmigrate.backfill_checkpoints WHERE plan_id = '{plan_id}'"
    )
    return found[0][0] if found else 0


def signal_mid_backfill(
    process: subprocess.Popen[str],
    dsn: str,
    plan_id: str,
    batches: int = 5,
    signum: int = signal.SIGKILL,
) -> None:
    """Send `signum` (SIGKILL by default) once the backfill on `dsn` has `batches` batches."""
    deadline = time.monotonic() + 60
    while batches_done(dsn, plan_id) < batches:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the backfill made no progress"
        time.sleep(0.02)
    process.send_signal(signum)
    process.wait(timeout=60)


def assert_each_step_ran_once(dsn: str, plan: Plan, schema: str = "public") -> None:
    """New column equal to the old on every row, every row updated once, each step recorded
    once, and one completed run per phase."""
    assert rows(dsn, f"SELECT count(*) FROM {schema}.users WHERE email_address = email") == [
        (ROWS,)
    ]
    assert rows(dsn, f"SELECT updates, count(*) FROM {schema}.users GROUP BY 1") == [(1, ROWS)]
    steps = rows(
        dsn,
        f"SELECT phase, step, count(*) FROM bgmigrate.completed_steps WHERE plan_id = '{plan.id}'"
        " GROUP BY 1, 2 ORDER BY 1, 2",
    )
    expand = plan.phase("expand")
    assert steps == [("expand", index, 1) for index in range(len(expand.steps))]
    runs = rows(
        dsn,
        "SELECT phase, status FROM bgmigrate.phase_runs"
        f" WHERE plan_id = '{plan.id}' AND status = 'done' ORDER BY id",
    )
    assert runs == [("expand", "done"), ("backfill", "done")]


def test_four_databases_in_parallel_survive_a_sigkill_mid_backfill(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    plan = build_rename_plan()
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(plan.to_toml())
    dsns = [new_database() for _ in range(4)]
    for dsn in dsns:
        create_users_table(dsn)
        slow_updates(dsn)
    targets = tmp_path / "targets.txt"
    targets.write_text("# the fleet\n\n" + "\n".join(dsns) + "\n")
    common = ("--targets", str(targets), "--parallel", "2")

    expand = bgmigrate("apply", str(plan_file), "--phase", "expand", *common)
    assert expand.returncode == 0, expand.stderr
    assert "expand over 4 targets: 4 done" in expand.stdout

    backfill = ("apply", str(plan_file), "--phase", "backfill", *common, *SLOW_BACKFILL)
    signal_mid_backfill(start(*backfill), dsns[0], plan.id)
    killed_at = batches_done(dsns[0], plan.id)
    assert 0 < killed_at * 20 < ROWS, "killed in the middle"
    assert batches_done(dsns[3], plan.id) == 0, "the last target had not started"

    # SIGTERM: the running targets stop after their current batch, no other starts
    stopped = start(*backfill)
    signal_mid_backfill(stopped, dsns[0], plan.id, killed_at + 3, signal.SIGTERM)
    out, err = stopped.communicate()
    assert stopped.returncode == 3, err
    assert "SIGTERM received: stopping after the current step or batch" in err
    assert "2 failed, 2 not started" in out
    assert out.count("of the backfill of public.users") == 2  # "stopped after batch N …"
    assert batches_done(dsns[3], plan.id) == 0

    again = bgmigrate(*backfill)
    assert again.returncode == 0, again.stderr
    assert "backfill over 4 targets: 4 done (0 already before)" in again.stdout
    assert "done before" in again.stderr  # the interrupted backfills resumed from checkpoints
    for dsn in dsns:
        assert_each_step_ran_once(dsn, plan)
    assert PASSWORD not in again.stdout + again.stderr + expand.stdout + expand.stderr

    # Run once more: every target is already done, nothing runs twice.
    third = bgmigrate(*backfill)
    assert third.returncode == 0
    assert "4 done (4 already before)" in third.stdout


def tenant_plan(dsn: str, tmp_path: Path) -> Path:
    """The plan the planner writes for one tenant schema."""
    made = subprocess.run(
        [
            *(sys.executable, "-m", "bgmigrate", "plan", "rename", "tenant_0.users.email"),
            *("email_address", "--dsn", dsn, "--format", "toml"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    path = tmp_path / "tenant-plan.toml"
    path.write_text(made.stdout)
    return path


def test_four_tenant_schemas_each_schema_with_a_sigkill_and_a_schema_without_the_table(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    dsn = new_database()
    schemas = [f"tenant_{n}" for n in range(4)]
    for schema in schemas:
        create_users_table(dsn, schema)
        slow_updates(dsn, schema)
    rows(dsn, "CREATE SCHEMA tenant_9; CREATE SCHEMA other")
    plan_file = tenant_plan(dsn, tmp_path)
    plan = Plan.from_toml(plan_file.read_text())
    common = ("--dsn", dsn, "--each-schema", "tenant_*", "--parallel", "2")

    expand = bgmigrate("apply", str(plan_file), "--phase", "expand", *common)
    assert expand.returncode == 0, expand.stderr
    assert "expand over 5 targets: 4 done (0 already before), 1 skipped" in expand.stdout
    assert "schema tenant_9 has no table users: nothing was run there" in expand.stdout
    assert rows(dsn, "SELECT count(*) FROM pg_class WHERE relnamespace = 'tenant_9'::regnamespace")[
        0
    ] == (0,), "nothing created in the schema without the table"

    backfill = ("apply", str(plan_file), "--phase", "backfill", *common, *SLOW_BACKFILL)
    signal_mid_backfill(start(*backfill), dsn, f"{plan.id}.tenant_0")
    again = bgmigrate(*backfill)
    assert again.returncode == 0, again.stderr
    assert "backfill over 5 targets: 4 done" in again.stdout
    for schema in schemas:
        assert_each_step_ran_once(dsn, plan_for_schema(plan, schema), schema)
    plan_ids = rows(dsn, "SELECT id FROM bgmigrate.plans ORDER BY id")
    assert plan_ids == [(f"{plan.id}.{schema}",) for schema in schemas], "own state per schema"

    rolled_back = bgmigrate("rollback", str(plan_file), "--phase", "expand", *common)
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert "rollback of expand over 5 targets: 4 done (0 already before), 1 skipped" in (
        rolled_back.stdout
    )
    new_columns = rows(
        dsn,
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'email_address'",
    )
    assert new_columns == [(0,)]


def test_a_canary_failure_stops_the_rollout_and_leaves_the_others_untouched(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(build_rename_plan().to_toml())
    broken, *others = [new_database() for _ in range(4)]  # the canary has no users table
    for dsn in others:
        create_users_table(dsn)

    result = bgmigrate(
        "apply", str(plan_file), "--phase", "expand", "--targets", "-", "--canary", "1",
        "--parallel", "2", stdin="\n".join([broken, *others]),
    )  # fmt: skip
    assert result.returncode == 3
    assert (
        "expand over 4 targets: 0 done (0 already before), 0 skipped, 1 failed, 3 not started"
        in (result.stdout)
    )
    assert 'relation "public.users" does not exist' in result.stdout
    assert result.stdout.count("not-started: ") == 3
    assert "the rollout stopped after" in result.stdout
    for dsn in others:
        assert rows(dsn, "SELECT to_regnamespace('bgmigrate')") == [(None,)]
        new_column = rows(
            dsn,
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'users' AND column_name = 'email_address'",
        )
        assert new_column == [(0,)]
    assert PASSWORD not in result.stdout + result.stderr


def test_keep_going_finishes_the_others_and_still_fails(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(build_rename_plan().to_toml())
    broken, healthy = new_database(), new_database()
    create_users_table(healthy)
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{broken}\n{healthy}\n")
    result = bgmigrate(
        "apply", str(plan_file), "--phase", "expand", "--targets", str(targets), "--keep-going"
    )
    assert result.returncode == 3
    assert "1 done (0 already before), 0 skipped, 1 failed, 0 not started" in result.stdout
    # plain lines in CI, each naming its target without the password
    assert f"[{healthy.replace(PASSWORD, '***')}] done" in result.stderr


def test_contract_refuses_the_fleet_naming_targets_not_ready_and_status_hides_passwords(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    plan = build_rename_plan()
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(plan.to_toml())
    ready, lagging = new_database(), new_database()
    for dsn in (ready, lagging):
        create_users_table(dsn)
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{ready}\n{lagging}\n")
    fleet = ("--targets", str(targets))
    assert bgmigrate("apply", str(plan_file), "--phase", "expand", *fleet).returncode == 0
    one = bgmigrate("apply", str(plan_file), "--phase", "backfill", "--dsn", ready)
    assert one.returncode == 0, one.stderr
    approved = bgmigrate("approve", str(plan_file), "--by", "alice", *fleet)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.count("approved: the contract phase of plan rename-users-email") == 2

    refused = bgmigrate("apply", str(plan_file), "--phase", "contract", *fleet)
    assert refused.returncode == 1
    shown_lagging = lagging.replace(PASSWORD, "***")
    assert refused.stderr.startswith(
        "bgmigrate: refused: the contract phase of plan rename-users-email starts on no target "
        "until all are ready; 1 of 2 are not: "
        f"{shown_lagging}: the contract phase of plan rename-users-email runs after backfill, "
        "which is pending"
    )
    assert rows(ready, "SELECT count(*) FROM bgmigrate.phase_runs WHERE phase = 'contract'") == [
        (0,)
    ], "contract started nowhere"

    text = bgmigrate("status", str(plan_file), *fleet)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[1:] == [
        f"  {ready.replace(PASSWORD, '***')}  backfill done  backfill {ROWS} rows scanned, "
        "complete",
        f"  {shown_lagging}  expand done  steps 4/4",
    ]
    as_json = bgmigrate("status", str(plan_file), *fleet, "--format", "json")
    data = json.loads(as_json.stdout)
    assert [(t["target"], t["phase"], t["status"]) for t in data["targets"]] == [
        (ready.replace(PASSWORD, "***"), "backfill", "done"),
        (shown_lagging, "expand", "done"),
    ]
    assert data["targets"][0]["backfill"]["rows_scanned"] == ROWS
    for output in (text, as_json, refused, approved):
        assert PASSWORD not in output.stdout + output.stderr


def test_status_of_an_unreachable_target_shows_why_without_the_password(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(build_rename_plan().to_toml())
    dead = f"postgresql://app:{PASSWORD}@127.0.0.1:1/shop?connect_timeout=2"
    for output_format in ("text", "json"):
        result = bgmigrate("status", str(plan_file), "--targets", "-", "--format", output_format,
                           stdin=dead + "\n")  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert PASSWORD not in result.stdout + result.stderr
        assert "postgresql://app:***@127.0.0.1:1/shop" in result.stdout
        assert "unreadable" in result.stdout


def test_targets_file_parsing() -> None:
    assert parse_targets("# fleet\n\n  postgresql://a/x  \n# b\npostgresql://b/y\n", "f") == [
        "postgresql://a/x",
        "postgresql://b/y",
    ]
    with pytest.raises(UsageError, match="f lists no database"):
        parse_targets("# nothing\n\n", "f")
    with pytest.raises(UsageError, match=r"more than once: postgresql://u:\*\*\*@a/x"):
        parse_targets("postgresql://u:pw@a/x\npostgresql://u:pw@a/x\n", "f")


def test_a_plan_for_one_schema_is_rewritten_for_another() -> None:
    plan = build_rename_plan()
    assert plan_schema(plan) == "public"
    tenant = plan_for_schema(plan, "Tenant-B")
    assert tenant.id == "rename-users-email.Tenant-B"
    assert tenant.target["table"] == '"Tenant-B".users'
    assert tenant.phases[0].steps[2].sql == (
        'CREATE OR REPLACE TRIGGER users_sync_email BEFORE INSERT OR UPDATE ON "Tenant-B".users'
        ' FOR EACH ROW EXECUTE FUNCTION "Tenant-B".users_sync_email()'
    )
    assert tenant.phases[1].backfill is not None
    assert tenant.phases[1].backfill.table == '"Tenant-B".users'
    tenant.verify_checksum()
    edited = dataclasses.replace(plan, notes=("edited after review",))
    with pytest.raises(PlanError, match="the plan was edited after it was written"):
        plan_for_schema(edited, "tenant_1")
    # only qualified names: a column or a string that merely contains the name is left alone
    assert "email_address = email" in tenant.phases[1].backfill.set


def test_fleet_exit_code_is_zero_only_when_every_target_finished() -> None:
    one, two = Target("postgresql://a/x"), Target("postgresql://a/y", "tenant_1")
    finished = (TargetOutcome(one, "done"), TargetOutcome(two, "skipped", "no table"))
    assert FleetResult("expand", finished).exit_code == 0
    failed = FleetResult(
        "expand",
        (TargetOutcome(one, "failed", "boom", 1), TargetOutcome(two, "not-started", "stop", 1)),
    )
    assert failed.exit_code == 1
    assert failed.summary() == (
        "expand over 2 targets: 0 done (0 already before), 0 skipped, 1 failed, 1 not started\n"
        "  failed: postgresql://a/x: boom\n"
        "  not-started: postgresql://a/y schema tenant_1: stop\n"
    )


def test_terminal_display_is_a_table_of_targets_in_progress() -> None:
    one = Target(f"postgresql://deploy:{PASSWORD}@db1/shop")
    two = Target(f"postgresql://deploy:{PASSWORD}@db2/shop", "tenant_1")
    stream = io.StringIO()
    display = TableFleetDisplay(stream)
    with display.running([one, two]):
        display.reporter(one).message("backfill of public.users")
        progress = BatchProgress("public.users", 3, 100, 0.1, 500, 500, 2000, 1000.0, 1.5)
        display.reporter(one).backfill_batch(progress)
        display.finished(TargetOutcome(two, "failed", "boom", 3))
    shown = stream.getvalue()
    assert "failed: postgresql://deploy:***@db2/shop schema tenant_1: boom" in shown
    assert "0/2 done, 0 skipped, 1 failed" in shown
    assert "500/2000 rows" in shown
    assert "backfill of public.users" in shown
    assert "tenant_1" not in shown.split("0/2 done")[1], "a finished target leaves the table"
    assert PASSWORD not in shown


def test_plain_lines_name_the_target_and_throttle_backfill_progress() -> None:
    target = Target(f"postgresql://deploy:{PASSWORD}@db1/shop")
    stream = io.StringIO()
    display = LinesFleetDisplay(stream)
    reporter = display.reporter(target)
    reporter.message("expand step 1/3: ALTER TABLE …\nsecond line")
    for batch in range(1, 50):
        reporter.backfill_batch(
            BatchProgress("public.users", batch, 10, 0.01, batch * 10, batch * 10, 490, 1e3, 0)
        )
    display.finished(TargetOutcome(target, "done"))
    assert stream.getvalue().splitlines() == [
        "[postgresql://deploy:***@db1/shop] expand step 1/3: ALTER TABLE …",
        "[postgresql://deploy:***@db1/shop] backfill public.users: batch 1, 10/490 rows scanned,"
        " 10 updated, 1000 rows/s, ETA 0s",
        "[postgresql://deploy:***@db1/shop] done",
    ]


def test_fleet_usage_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    plan = build_rename_plan()
    unqualified = Plan.from_toml(plan.to_toml().replace("public.users", "users")).with_checksum()
    plan_file, unqualified_file = tmp_path / "plan.toml", tmp_path / "unqualified.toml"
    plan_file.write_text(plan.to_toml())
    unqualified_file.write_text(unqualified.to_toml())
    dsn = f"postgresql://app:{PASSWORD}@127.0.0.1:1/shop"
    cases = {
        (str(unqualified_file), "--dsn", dsn, "--each-schema", "tenant_*"): (
            "plan rename-users-email names its table users without a schema: make the plan for "
            "one tenant schema (bgmigrate plan rename tenant_0.users.email email_address) to run "
            "it with --each-schema"
        ),
        (str(plan_file), "--targets", str(tmp_path / "missing.txt")): (
            f"cannot read --targets {tmp_path / 'missing.txt'}: No such file or directory"
        ),
        (str(plan_file), "--targets", "-", "--dry-run"): (
            "--dry-run and --direct-dsn take one --dsn, not --targets or --each-schema"
        ),
        (str(plan_file), "--each-schema", "tenant_*"): (
            "--each-schema needs the databases: pass --dsn URL or --targets FILE"
        ),
    }
    for arguments, message in cases.items():
        result = subprocess.run(
            [sys.executable, "-m", "bgmigrate.execute", "apply", *arguments, "--phase", "expand"],
            cwd=REPO,
            capture_output=True,
            text=True,
            input="",
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"bgmigrate: error: {message}\n"
