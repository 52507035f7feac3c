"""`bgmigrate apply`, `approve`, `status`, `rollback`: wiring to bgmigrate.execute.

Exit codes (plans.md): 0 done or already done; 1 a gate refused (also: another executor holds
the plan, a verify query is false); 2 bad plan or usage; 3 database error after retries, or
stopped by SIGINT/SIGTERM: the phase is resumable, run the same command again.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from threading import Event
from typing import Annotated, NoReturn, TypeVar

import typer

from bgmigrate.execute.connection import redact_dsn
from bgmigrate.execute.errors import ExecutorError, UsageError
from bgmigrate.execute.fleet import FleetDisplay, FleetOptions, FleetResult
from bgmigrate.execute.options import ApplyOptions, GateOptions, parse_duration
from bgmigrate.execute.state import Approval
from bgmigrate.execute.targets import Target
from bgmigrate.plan.model import Plan, PlanError, load_plan

__all__ = ["app", "apply", "approve", "rollback", "status"]

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)

T = TypeVar("T")


class PhaseName(str, Enum):
    expand = "expand"
    backfill = "backfill"
    deploy = "deploy"
    contract = "contract"


class StatusFormat(str, Enum):
    text = "text"
    json = "json"


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _exit_with(error: PlanError | ExecutorError) -> NoReturn:
    code = error.exit_code
    kind = "refused" if code == 1 else "error"
    sys.stderr.write(f"bgmigrate: {kind}: {redact_dsn(str(error))}\n")
    raise typer.Exit(code)


PlanArgument = Annotated[
    Path,
    typer.Argument(
        metavar="PLAN", help="The plan file (TOML or JSON) written by `bgmigrate plan`."
    ),
]
Dsn = Annotated[
    str | None,
    typer.Option(
        "--dsn",
        envvar="DATABASE_URL",
        show_default=False,
        help="PostgreSQL URL of the target database (default: $DATABASE_URL). Its password is "
        "never printed.",
    ),
]
LockTimeout = Annotated[
    str,
    typer.Option(
        help="Longest wait for a lock before a step or batch backs off and retries "
        "(2s, 500ms; a bare number is seconds).",
    ),
]
StatementTimeout = Annotated[
    str,
    typer.Option(help="Longest time for one statement (5min, 30s; 0 disables)."),
]
TargetsFile = Annotated[
    str | None,
    typer.Option(
        "--targets",
        metavar="FILE",
        show_default=False,
        help="A fleet: a file with one connection string per line (# comments and blank lines "
        "ignored), or - for standard input. Takes the place of --dsn and $DATABASE_URL.",
    ),
]
EachSchema = Annotated[
    str | None,
    typer.Option(
        "--each-schema",
        metavar="GLOB",
        show_default=False,
        help="Run a plan made for one schema on every schema matching GLOB (tenant_*) of each "
        "database, each with its own state; schemas without the plan's table are skipped.",
    ),
]
Parallel = Annotated[
    int, typer.Option(min=1, help="With --targets or --each-schema: targets run at a time.")
]
KeepGoing = Annotated[
    bool,
    typer.Option(
        "--keep-going",
        help="After a target fails, go on with the others (default: start no new target).",
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        min=0,
        help="Retries of a step or batch that could not get its lock, with exponential "
        "backoff and jitter, before exit code 3.",
    ),
]


def _fleet(
    plan: Plan, dsn: str | None, targets_file: str | None, each_schema: str | None
) -> list[Target]:
    """The targets of a fleet command (call only when --targets or --each-schema is given);
    `--targets` takes the place of `--dsn`."""
    from bgmigrate.execute.targets import expand_schemas, read_targets
    from bgmigrate.execute.tenants import plan_schema

    if each_schema is not None:
        plan_schema(plan)  # a plan that names no schema cannot run per schema: say so first
    if targets_file is not None:
        dsns = read_targets(targets_file, sys.stdin)
    elif dsn:
        dsns = [dsn]
    else:
        raise UsageError("--each-schema needs the databases: pass --dsn URL or --targets FILE")
    return expand_schemas(dsns, each_schema)


def _options(
    lock_timeout: str,
    statement_timeout: str,
    retries: int,
    batch_size: int | None = None,
    target_batch_seconds: float = 0.2,
    pause_ratio: float = 0.0,
) -> ApplyOptions:
    return ApplyOptions(
        lock_timeout=_duration(lock_timeout),
        statement_timeout=_duration(statement_timeout),
        retries=retries,
        batch_size=batch_size,
        target_batch_seconds=target_batch_seconds,
        pause_ratio=pause_ratio,
    )


@app.command()
def apply(
    plan_path: PlanArgument,
    phase: Annotated[PhaseName, typer.Option("--phase", help="The phase to run.")],
    dsn: Dsn = None,
    targets_file: TargetsFile = None,
    each_schema: EachSchema = None,
    parallel: Parallel = 1,
    canary: Annotated[
        int,
        typer.Option(
            min=0,
            help="The first K targets complete the phase before any other starts; a failure "
            "among them stops the rollout.",
        ),
    ] = 0,
    keep_going: KeepGoing = False,
    direct_dsn: Annotated[
        str | None,
        typer.Option(
            "--direct-dsn",
            show_default=False,
            help="With --dsn through a transaction pooler (PgBouncer): a connection to the same "
            "database that bypasses it, for the steps that cannot run in a transaction "
            "(CONCURRENTLY).",
        ),
    ] = None,
    lock_timeout: LockTimeout = "2s",
    statement_timeout: StatementTimeout = "5min",
    retries: Retries = 5,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="First backfill batch size (default: the plan's, else 1000)."),
    ] = None,
    target_batch_seconds: Annotated[
        float,
        typer.Option(min=0.001, help="Backfill batches are resized to take about this long."),
    ] = 0.2,
    pause_ratio: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="After each backfill batch, sleep this fraction of its duration (1.0 halves "
            "the load).",
        ),
    ] = 0.0,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the statements that would run, as SQL; execute nothing."
        ),
    ] = False,
    old_app_name: Annotated[
        str | None,
        typer.Option(
            help="Refuse while a session whose application_name matches this glob (* and ?) "
            "is connected to the database: the old version is still running.",
        ),
    ] = None,
    health_url: Annotated[
        str | None,
        typer.Option(
            help='Refuse unless this URL answers JSON {"version": ...} equal to '
            "--expect-version (the new version is live).",
        ),
    ] = None,
    expect_version: Annotated[
        str | None, typer.Option(help="The version --health-url must report.")
    ] = None,
) -> None:
    """Run one phase of a plan against PostgreSQL.

    Phases run in order; a phase already done does nothing. Each step runs in its own short
    transaction with lock_timeout, retried with backoff; a backfill runs in keyset batches
    whose checkpoint commits with each batch, so a killed run resumes where it stopped.
    SIGINT/SIGTERM stop after the current batch (exit 3, resumable).

    Example:

      bgmigrate apply plan.toml --phase expand --dsn postgresql://app@db/shop

      bgmigrate apply plan.toml --phase contract --old-app-name 'shop-blue*'
      --health-url https://shop.example.com/health --expect-version 1.1.0

      bgmigrate apply plan.toml --phase backfill --targets fleet.txt --parallel 4 --canary 1

    A fleet (--targets, --each-schema) prints a summary and exits 0 only when every target
    finished the phase.
    """
    from bgmigrate.execute.dryrun import dry_run as render_dry_run
    from bgmigrate.execute.executor import apply_phase
    from bgmigrate.execute.fleet import apply_fleet
    from bgmigrate.execute.progress import make_reporter
    from bgmigrate.execute.signals import stop_on_signals

    try:
        plan = load_plan(plan_path)
        options = _options(
            lock_timeout,
            statement_timeout,
            retries,
            batch_size,
            target_batch_seconds,
            pause_ratio,
        )
        gates = GateOptions(
            old_app_name=old_app_name, health_url=health_url, expect_version=expect_version
        )
        fleet = targets_file is not None or each_schema is not None
        if fleet and (dry_run or direct_dsn):
            raise UsageError(
                "--dry-run and --direct-dsn take one --dsn, not --targets or --each-schema"
            )
        if dry_run:
            sys.stdout.write(render_dry_run(plan, phase.value, options=options, dsn=dsn))
            return
        if fleet:
            targets = _fleet(plan, dsn, targets_file, each_schema)
            rollout = FleetOptions(parallel=parallel, canary=canary, keep_going=keep_going)
            raise typer.Exit(
                _run_fleet(
                    lambda display, stop: apply_fleet(
                        plan,
                        phase.value,
                        targets,
                        fleet=rollout,
                        options=options,
                        gates=gates,
                        display=display,
                        stop=stop,
                    )
                )
            )
        reporter = make_reporter()
        with stop_on_signals(reporter) as stop:
            apply_phase(
                plan,
                phase.value,
                dsn,
                options=options,
                gates=gates,
                reporter=reporter,
                stop=stop,
                direct_dsn=direct_dsn,
            )
    except (PlanError, ExecutorError) as error:
        _exit_with(error)


def _run_fleet(run: Callable[[FleetDisplay, Event], FleetResult]) -> int:
    """Run a fleet command with its live display on stderr; the summary goes to stdout."""
    from bgmigrate.execute.fleet_progress import make_fleet_display
    from bgmigrate.execute.progress import make_reporter
    from bgmigrate.execute.signals import stop_on_signals

    with stop_on_signals(make_reporter()) as stop:
        result = run(make_fleet_display(sys.stderr), stop)
    sys.stdout.write(result.summary())
    return result.exit_code


@app.command()
def approve(
    plan_path: PlanArgument,
    phase: Annotated[
        PhaseName, typer.Option("--phase", help="The phase approved (contract).")
    ] = PhaseName.contract,
    by: Annotated[str, typer.Option("--by", help="Who approves: recorded with the time.")] = "",
    dsn: Dsn = None,
    targets_file: TargetsFile = None,
    each_schema: EachSchema = None,
) -> None:
    """Record an approval of this exact plan (its checksum) for a phase.

    `apply --phase contract` refuses without an approval of the same checksum; a plan edited
    after approval is refused until it is approved again.

    Example:

      bgmigrate approve plan.toml --phase contract --by alice --dsn $DATABASE_URL

      bgmigrate approve plan.toml --by alice --targets fleet.txt --each-schema 'tenant_*'
    """
    from bgmigrate.execute.executor import approve_phase
    from bgmigrate.execute.fleet import approve_fleet

    try:
        plan = load_plan(plan_path)
        if targets_file is None and each_schema is None:
            approval = approve_phase(plan, phase.value, dsn, by=by)
            sys.stdout.write(_approved(approval) + "\n")
            return
        targets = _fleet(plan, dsn, targets_file, each_schema)
        for target, recorded in approve_fleet(plan, phase.value, targets, by=by):
            line = _approved(recorded) if recorded else "skipped: the plan's table is not there"
            sys.stdout.write(f"{target.label}: {line}\n")
    except (PlanError, ExecutorError) as error:
        _exit_with(error)


def _approved(approval: Approval) -> str:
    return (
        f"approved: the {approval.phase} phase of plan {approval.plan_id} ({approval.checksum}) "
        f"by {approval.by} at {approval.at:%Y-%m-%d %H:%M:%S %Z}"
    )


@app.command()
def status(
    plan_path: PlanArgument,
    dsn: Dsn = None,
    targets_file: TargetsFile = None,
    each_schema: EachSchema = None,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", help="text or json.")
    ] = StatusFormat.text,
) -> None:
    """Show where a plan stands in a database: phases, steps, backfill, approvals.

    Reads only; works before the first apply.

    Example:

      bgmigrate status plan.toml --dsn $DATABASE_URL --format json

      bgmigrate status plan.toml --targets fleet.txt --each-schema 'tenant_*'

    Over a fleet: one row per target (and schema), with its phase, step, backfill and last
    error. Passwords are never shown.
    """
    from bgmigrate.execute.fleet_status import (
        fleet_status,
        fleet_status_json,
        render_fleet_status,
    )
    from bgmigrate.execute.status import plan_status, render_status

    try:
        plan = load_plan(plan_path)
        if targets_file is not None or each_schema is not None:
            rows = fleet_status(plan, _fleet(plan, dsn, targets_file, each_schema))
            if output_format is StatusFormat.json:
                sys.stdout.write(json.dumps(fleet_status_json(plan, rows), indent=2) + "\n")
            else:
                sys.stdout.write(render_fleet_status(plan, rows))
            return
        result = plan_status(plan, dsn)
    except (PlanError, ExecutorError) as error:
        _exit_with(error)
    if output_format is StatusFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_status(result))


@app.command()
def rollback(
    plan_path: PlanArgument,
    phase: Annotated[
        PhaseName,
        typer.Option("--phase", help="expand (undoes backfill too) or backfill."),
    ],
    dsn: Dsn = None,
    targets_file: TargetsFile = None,
    each_schema: EachSchema = None,
    parallel: Parallel = 1,
    keep_going: KeepGoing = False,
    lock_timeout: LockTimeout = "2s",
    statement_timeout: StatementTimeout = "5min",
    retries: Retries = 5,
) -> None:
    """Undo the completed steps of expand and backfill, newest first, before contract.

    Runs each step's undo statement with the same short locks and retries as apply. Refused
    once contract has started, or when a completed step has no undo.

    Example:

      bgmigrate rollback plan.toml --phase expand --dsn $DATABASE_URL

      bgmigrate rollback plan.toml --phase expand --targets fleet.txt --keep-going
    """
    from bgmigrate.execute.executor import rollback_phase
    from bgmigrate.execute.fleet import rollback_fleet
    from bgmigrate.execute.progress import make_reporter
    from bgmigrate.execute.signals import stop_on_signals

    try:
        plan = load_plan(plan_path)
        options = _options(lock_timeout, statement_timeout, retries)
        if targets_file is not None or each_schema is not None:
            targets = _fleet(plan, dsn, targets_file, each_schema)
            fleet = FleetOptions(parallel=parallel, keep_going=keep_going)
            raise typer.Exit(
                _run_fleet(
                    lambda display, stop: rollback_fleet(
                        plan,
                        phase.value,
                        targets,
                        fleet=fleet,
                        options=options,
                        display=display,
                        stop=stop,
                    )
                )
            )
        reporter = make_reporter()
        with stop_on_signals(reporter) as stop:
            rollback_phase(plan, phase.value, dsn, options=options, reporter=reporter, stop=stop)
    except (PlanError, ExecutorError) as error:
        _exit_with(error)
