"""`bgmigrate apply`, `approve`, `status`, `rollback`: wiring to bgmigrate.execute.

Exit codes (plans.md): 0 done or already done; 1 a gate refused (also: another executor holds
the plan, a verify query is false); 2 bad plan or usage; 3 database error after retries, or
stopped by SIGINT/SIGTERM: the phase is resumable, run the same command again.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from bgmigrate.execute.connection import redact_dsn
from bgmigrate.execute.errors import ExecutorError
from bgmigrate.execute.options import ApplyOptions, GateOptions, parse_duration
from bgmigrate.plan.model import PlanError, load_plan

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
Retries = Annotated[
    int,
    typer.Option(
        min=0,
        help="Retries of a step or batch that could not get its lock, with exponential "
        "backoff and jitter, before exit code 3.",
    ),
]


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
    """
    from bgmigrate.execute.dryrun import dry_run as render_dry_run
    from bgmigrate.execute.executor import apply_phase
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
        if dry_run:
            sys.stdout.write(render_dry_run(plan, phase.value, options=options, dsn=dsn))
            return
        reporter = make_reporter()
        with stop_on_signals(reporter) as stop:
            apply_phase(
                plan, phase.value, dsn, options=options, gates=gates, reporter=reporter, stop=stop
            )
    except (PlanError, ExecutorError) as error:
        _exit_with(error)


@app.command()
def approve(
    plan_path: PlanArgument,
    phase: Annotated[
        PhaseName, typer.Option("--phase", help="The phase approved (contract).")
    ] = PhaseName.contract,
    by: Annotated[str, typer.Option("--by", help="Who approves: recorded with the time.")] = "",
    dsn: Dsn = None,
) -> None:
    """Record an approval of this exact plan (its checksum) for a phase.

    `apply --phase contract` refuses without an approval of the same checksum; a plan edited
    after approval is refused until it is approved again.

    Example:

      bgmigrate approve plan.toml --phase contract --by alice --dsn $DATABASE_URL
    """
    from bgmigrate.execute.executor import approve_phase

    try:
        approval = approve_phase(load_plan(plan_path), phase.value, dsn, by=by)
    except (PlanError, ExecutorError) as error:
        _exit_with(error)
    sys.stdout.write(
        f"approved: the {approval.phase} phase of plan {approval.plan_id} ({approval.checksum}) "
        f"by {approval.by} at {approval.at:%Y-%m-%d %H:%M:%S %Z}\n"
    )


@app.command()
def status(
    plan_path: PlanArgument,
    dsn: Dsn = None,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", help="text or json.")
    ] = StatusFormat.text,
) -> None:
    """Show where a plan stands in a database: phases, steps, backfill, approvals.

    Reads only; works before the first apply.

    Example:

      bgmigrate status plan.toml --dsn $DATABASE_URL --format json
    """
    from bgmigrate.execute.status import plan_status, render_status

    try:
        result = plan_status(load_plan(plan_path), dsn)
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
    lock_timeout: LockTimeout = "2s",
    statement_timeout: StatementTimeout = "5min",
    retries: Retries = 5,
) -> None:
    """Undo the completed steps of expand and backfill, newest first, before contract.

    Runs each step's undo statement with the same short locks and retries as apply. Refused
    once contract has started, or when a completed step has no undo.

    Example:

      bgmigrate rollback plan.toml --phase expand --dsn $DATABASE_URL
    """
    from bgmigrate.execute.executor import rollback_phase
    from bgmigrate.execute.progress import make_reporter
    from bgmigrate.execute.signals import stop_on_signals

    try:
        plan = load_plan(plan_path)
        options = _options(lock_timeout, statement_timeout, retries)
        reporter = make_reporter()
        with stop_on_signals(reporter) as stop:
            rollback_phase(plan, phase.value, dsn, options=options, reporter=reporter, stop=stop)
    except (PlanError, ExecutorError) as error:
        _exit_with(error)
