"""The typer app behind every `bgmigrate` command but `check` (which `main` runs directly)."""

from __future__ import annotations

import typer

from bgmigrate.cli.catalog import register as register_catalog
from bgmigrate.cli.check import SUMMARY as CHECK_SUMMARY
from bgmigrate.cli.check import run as run_check
from bgmigrate.cli.trace import register as register_trace

__all__ = ["app", "mount_plan_and_execute"]

app = typer.Typer(
    name="bgmigrate",
    help="Keep PostgreSQL schema changes from breaking blue-green deploys.\n\n"
    "  bgmigrate check migrations/\n\n"
    "  bgmigrate plan rename users.email email_address --schema-from migrations/\n\n"
    "  bgmigrate apply plan.toml --phase expand --dsn $DATABASE_URL\n\n"
    "  bgmigrate trace proposed/ --schema-from migrations/ --old-queries queries.sql",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.command(
    "check",
    help=CHECK_SUMMARY,
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
def check(context: typer.Context) -> None:
    # `bgmigrate check` parses its own options (see bgmigrate.cli.check): hand them all over.
    raise typer.Exit(run_check(context.args))


register_catalog(app)
register_trace(app)


def mount_plan_and_execute() -> None:
    """Add `plan`, `apply`, `approve`, `status` and `rollback` to the app.

    `main` skips this for `rules` and `explain`, which should not pay for importing the
    planner and the executor.
    """
    from bgmigrate.cli.execute import app as execute_app
    from bgmigrate.cli.plan import app as plan_app

    app.add_typer(plan_app, name="plan")
    app.registered_commands.extend(execute_app.registered_commands)
