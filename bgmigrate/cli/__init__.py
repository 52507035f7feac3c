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


def _mount_optional() -> None:
    """Mount the planner and the executor commands (their modules import lazily what they need)."""
    try:
        from bgmigrate.cli.plan import app as plan_app
    except ImportError:  # pragma: no cover - while the planner is not installed
        plan_app = None
    if plan_app is not None:
        app.add_typer(plan_app, name="plan")
    try:
        from bgmigrate.cli.execute import app as execute_app
    except ImportError:  # pragma: no cover
        execute_app = None
    if execute_app is not None:
        app.registered_commands.extend(execute_app.registered_commands)


_mount_optional()


def main() -> None:
    """Console entry point: one clear line on stderr and exit 2 instead of a traceback."""
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
