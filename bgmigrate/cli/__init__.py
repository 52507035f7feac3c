"""The `bgmigrate` command line: wiring only; the work happens in the packages it calls."""

from __future__ import annotations

import gc
import os
import sys

from bgmigrate.cli.errors import UsageError, fail, stop_writing

__all__ = ["main"]

# Commands that need neither the planner nor the executor imported.
LIGHT_COMMANDS = frozenset({"rules", "explain", "--version"})


def main() -> None:
    """Console entry point: one clear line on stderr and exit 2 instead of a traceback."""
    command = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        if command == "check":
            # The pre-commit path: no typer, no planner, no executor. Importing the checker
            # allocates tens of thousands of objects and frees none: the cyclic collector's
            # passes over them were a tenth of checking one file. `run` turns it back on.
            gc.disable()
            from bgmigrate.cli.check import run

            code = run(sys.argv[2:])
        else:
            from bgmigrate.cli.app import mount_plan_and_execute, run_app

            if command not in LIGHT_COMMANDS:
                mount_plan_and_execute()
            code = run_app(sys.argv[1:])
    except UsageError as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except BrokenPipeError:
        stop_writing()  # stdout's reader stopped reading (`| head`): nothing to say to it
        code = 1
    except Exception as error:
        if os.environ.get("BGMIGRATE_DEBUG"):
            raise
        fail(
            f"internal error: {type(error).__name__}: {error} "
            "(set BGMIGRATE_DEBUG=1 for the traceback, and please report it)"
        )
    sys.exit(code)
