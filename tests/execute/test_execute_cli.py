"""The executor commands as a pipeline calls them: exit codes, output, DATABASE_URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typer.testing import CliRunner

from bgmigrate.cli.execute import app
from bgmigrate.plan.model import Plan

runner = CliRunner()


def bgmigrate(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


def test_apply_runs_phases_and_exits_0_also_when_already_done(
    users_db: str, plan_file: Path
) -> None:
    first = bgmigrate("apply", str(plan_file), "--phase", "expand", "--dsn", users_db)
    assert first.exit_code == 0, first.stderr
    events = [json.loads(line) for line in first.stderr.splitlines()]
    assert events[-1]["event"] == "done"
    again = bgmigrate("apply", str(plan_file), "--phase", "expand", "--dsn", users_db)
    assert again.exit_code == 0
    assert "already done" in again.stderr


def test_dsn_defaults_to_database_url(users_db: str, plan_file: Path) -> None:
    result = bgmigrate("apply", str(plan_file), "--phase", "expand", env={"DATABASE_URL": users_db})
    assert result.exit_code == 0, result.stderr


def test_refused_gate_exits_1(users_db: str, plan_file: Path) -> None:
    result = bgmigrate("apply", str(plan_file), "--phase", "contract", "--dsn", users_db)
    assert result.exit_code == 1
    assert result.stderr.startswith("bgmigrate: refused: the contract phase of plan")


def test_edited_plan_file_exits_2(users_db: str, plan_file: Path) -> None:
    plan_file.write_text(plan_file.read_text().replace("ADD COLUMN", "ADD COLUMN  "))
    result = bgmigrate("apply", str(plan_file), "--phase", "expand", "--dsn", users_db)
    assert result.exit_code == 2
    assert "edited after it was written" in result.stderr


def test_database_refusing_the_login_exits_3_without_the_password(
    pg_dsn: str, plan_file: Path
) -> None:
    params = conninfo_to_dict(pg_dsn)
    params.update(user="nobody_here", password="s3cret-Pa55")
    dsn = make_conninfo(**params)
    for command in (["apply", "--phase", "expand"], ["status"], ["approve", "--by", "a"]):
        result = bgmigrate(command[0], str(plan_file), *command[1:], "--dsn", dsn)
        assert result.exit_code == 3, command
        assert "s3cret-Pa55" not in result.stderr + result.stdout
        assert "password=***" in result.stderr


def test_bad_duration_is_a_usage_error(plan_file: Path) -> None:
    result = bgmigrate(
        "apply", str(plan_file), "--phase", "expand", "--lock-timeout", "soon", "--dry-run"
    )
    assert result.exit_code == 2
    assert "expected a duration such as 2s" in result.stderr


def test_dry_run_prints_sql_on_stdout_and_needs_no_database(plan_file: Path) -> None:
    result = bgmigrate("apply", str(plan_file), "--phase", "expand", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "SET LOCAL lock_timeout = '2000ms';" in result.stdout
    assert "ALTER TABLE public.users ADD COLUMN IF NOT EXISTS email_address text;" in result.stdout


def test_approve_and_status_json(users_db: str, plan_file: Path, rename_plan: Plan) -> None:
    for phase in ("expand", "backfill"):
        assert (
            bgmigrate("apply", str(plan_file), "--phase", phase, "--dsn", users_db).exit_code == 0
        )
    approved = bgmigrate(
        "approve", str(plan_file), "--phase", "contract", "--by", "alice", "--dsn", users_db
    )
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout.startswith(
        f"approved: the contract phase of plan rename-users-email ({rename_plan.checksum}) by alice"
    )
    result = bgmigrate("status", str(plan_file), "--dsn", users_db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["plan_id"] == "rename-users-email"
    assert status["recorded_checksum"] == rename_plan.checksum
    assert status["executor"] is None
    phases = {phase["name"]: phase for phase in status["phases"]}
    assert phases["expand"]["status"] == "done"
    assert (phases["expand"]["steps_done"], phases["expand"]["steps_total"]) == (4, 4)
    assert phases["backfill"]["backfill"]["rows_updated"] == 2000
    assert phases["backfill"]["backfill"]["pass_complete"] is True
    assert phases["deploy"]["status"] == "app"
    assert phases["contract"]["status"] == "pending"
    assert phases["contract"]["approved_by"] == "alice"


def test_status_text(users_db: str, plan_file: Path) -> None:
    bgmigrate("apply", str(plan_file), "--phase", "expand", "--dsn", users_db)
    result = bgmigrate("status", str(plan_file), "--dsn", users_db)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1] == "  expand    done         steps 4/4"
    assert lines[-1] == "  contract  pending      steps 0/3  not approved"


def test_rollback_command(users_db: str, plan_file: Path, query: Any) -> None:
    bgmigrate("apply", str(plan_file), "--phase", "expand", "--dsn", users_db)
    result = bgmigrate("rollback", str(plan_file), "--phase", "expand", "--dsn", users_db)
    assert result.exit_code == 0, result.stderr
    assert query(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'email_address'"
    ) == [(0,)]


@pytest.mark.parametrize("command", ["apply", "approve", "status", "rollback"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = bgmigrate(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert f"bgmigrate {command} plan.toml" in result.stdout
