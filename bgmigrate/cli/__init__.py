"""The `bgmigrate` command line: wiring only; the work happens in the packages it calls."""

from __future__ import annotations

import os
import sys

import typer

from bgmigrate.cli.check import register as register_check
from bgmigrate.cli.errors import UsageError, fail

__all__ = ["app", "main"]

app = typer.Typer(
    name="bgmigrate",
    help="Keep PostgreSQL schema changes from breaking blue-green deploys.\n\n"
    "  bgmigrate check migrations/\n\n"
    "  bgmigrate plan rename users.email email_address --schema-from migrations/\n\n"
    "  bgmigrate apply plan.toml --phase expand --dsn $DATABASE_URL",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
register_check(app)


CHECK_COMMANDS = frozenset({"check", "rules", "explain"})


def mount_plan_and_execute() -> None:
    """Add `plan`, `apply`, `approve`, `status` and `rollback` to the app.

    `main` skips this for the check commands: a pre-commit hook runs `bgmigrate check` on every
    commit, and it should not pay for importing the planner and the executor.
    """
    from bgmigrate.cli.execute import app as execute_app
    from bgmigrate.cli.plan import app as plan_app

    app.add_typer(plan_app, name="plan")
    app.registered_commands.extend(execute_app.registered_commands)


def main() -> None:
    """Console entry point: one clear line on stderr and exit 2 instead of a traceback."""
    if len(sys.argv) < 2 or sys.argv[1] not in CHECK_COMMANDS:
        mount_plan_and_execute()
    try:
        app(standalone_mode=True)
    except UsageError as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except Exception as error:
        if os.environ.get("BGMIGRATE_DEBUG"):
            raise
        fail(
            f"internal error: {type(error).__name__}: {error} "
            "(set BGMIGRATE_DEBUG=1 for the traceback, and please report it)"
        )
    sys.exit(0)
