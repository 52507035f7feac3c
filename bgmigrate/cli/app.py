"""The typer app behind every `bgmigrate` command but `check` (which `main` runs directly)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from bgmigrate import __version__
from bgmigrate.cli.catalog import register as register_catalog
from bgmigrate.cli.check import SUMMARY as CHECK_SUMMARY
from bgmigrate.cli.check import run as run_check
from bgmigrate.cli.errors import fail, nearest_choice
from bgmigrate.cli.trace import register as register_trace

__all__ = ["app", "mount_plan_and_execute", "run_app"]

# typer re-exports click's BadParameter (from the click it vendors in recent versions, from
# click itself before): its base is the UsageError that every bad command, option or argument
# raises, whichever click this typer carries.
_UsageError: type[Exception] = typer.BadParameter.__bases__[0]

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


def _print_version(asked: bool) -> None:
    if asked:
        sys.stdout.write(f"bgmigrate {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Options that come before the command."""


register_catalog(app)
register_trace(app)


def _options(context: typer.Context) -> list[str]:
    return [name for param in context.command.params for name in getattr(param, "opts", [])]


def run_app(argv: Sequence[str]) -> int:
    """Run a typer command; a bad command, option or argument is one line on stderr, exit 2.

    typer (as click) would print the usage block and a boxed error; every bgmigrate failure is
    one line naming what is wrong and the nearest valid choice, as `check`'s own parser does.
    """
    try:
        code = app(args=list(argv), prog_name="bgmigrate", standalone_mode=False)
    except _UsageError as error:
        context = getattr(error, "ctx", None)
        message = error.format_message()  # type: ignore[attr-defined]
        if context is None:
            fail(message)
        if message == context.get_help():  # a group run with no command: show its commands
            sys.stdout.write(message + "\n")
            return 2
        command = context.command_path
        # click names the nearest command and options itself; a choice gets it here.
        named = "Did you mean" in message or "Possible options" in message
        near = "" if named else nearest_choice(message, _options(context))
        if near:
            message = message.rstrip(".")
        fail(f"{command}: {message}{near} (`{command} --help` lists the choices, with an example)")
    except typer.Abort:
        fail("aborted", code=1)
    return code if isinstance(code, int) else 0


def mount_plan_and_execute() -> None:
    """Add `plan`, `apply`, `approve`, `status` and `rollback` to the app.

    `main` skips this for `rules` and `explain`, which should not pay for importing the
    planner and the executor.
    """
    from bgmigrate.cli.execute import app as execute_app
    from bgmigrate.cli.plan import app as plan_app

    app.add_typer(plan_app, name="plan")
    app.registered_commands.extend(execute_app.registered_commands)
