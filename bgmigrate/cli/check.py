"""`bgmigrate check`: its options, and wiring to bgmigrate.check.

This command's options are parsed with argparse, not typer. A pre-commit hook runs it on every
commit, and importing typer (and the click it carries) takes about a fifth of checking one
small file. `bgmigrate.cli.main` runs it without importing typer, and the typer app mounts it
as a pass-through command, so `bgmigrate --help` lists it and `bgmigrate check` has one
parser whichever way it is reached.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bgmigrate.check.report import FORMATS
from bgmigrate.check.workers import PARALLEL_FROM
from bgmigrate.cli.errors import fail, nearest_choice, stop_writing

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["SUMMARY", "run"]

SUMMARY = "Check migrations for changes that break the running app version or lock its traffic."
FAIL_ON = ("error", "warning", "never")

_DESCRIPTION = f"""{SUMMARY}

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 could not check.
"""
_EXAMPLES = """examples:
  bgmigrate check migrations/
  bgmigrate check alembic/versions/ --format github --since origin/main
  git diff --name-only | grep .sql | xargs bgmigrate check --fail-on warning
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as for every other failure (exit code 2): argparse would print the usage.
        near = nearest_choice(message, list(self._option_string_actions))
        fail(f"{message}{near} (`{self.prog} --help` lists the options)")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, finding the terminal's width as `shutil.get_terminal_size` does without
    importing shutil (and the compression modules it imports): `add_argument` makes a
    formatter for every option, so each run paid a millisecond for it, help or not."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_columns() - 2)  # argparse's margin


def _terminal_columns() -> int:
    """$COLUMNS, else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _pg_version(text: str) -> int:
    try:
        version = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a PostgreSQL major version") from None
    if not 9 <= version <= 99:
        raise argparse.ArgumentTypeError(f"{version} is not between 9 and 99")
    return version


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{jobs} is not 1 or more")
    return jobs


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bgmigrate check",
        description=_DESCRIPTION,
        epilog=_EXAMPLES,
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="SQL files, Alembic revisions or projects (alembic.ini), directories; '-' reads "
        "SQL from stdin. Default: `paths` from the config, else the migrations found where "
        "tools put them (alembic.ini, migrations/, db/migrations/ …).",
    )
    parser.add_argument(
        "--format",
        choices=list(FORMATS),
        default="text",
        help="text (default), json, sarif, github, gitlab, or markdown (a pull-request "
        "comment or $GITHUB_STEP_SUMMARY).",
    )
    parser.add_argument(
        "--pg-version",
        type=_pg_version,
        metavar="N",
        help="Target PostgreSQL major version, 9 to 99 (default: config, else 16).",
    )
    parser.add_argument(
        "--select",
        action="append",
        metavar="RULE,…",
        help="Only these rules or categories (comma-separated, repeatable).",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="RULE,…",
        help="Skip these rules or categories (comma-separated, repeatable).",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="Lowest severity that makes the exit code 1 (default: error).",
    )
    parser.add_argument(
        "--since",
        metavar="GIT_REF",
        help="Report only migrations added or changed since this git ref (earlier ones still "
        "give context).",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="Config file (default: nearest bgmigrate.toml or pyproject.toml with "
        "[tool.bgmigrate]).",
    )
    parser.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="Check every file anew, neither reading nor writing the cache (default: reuse "
        "the report of an identical earlier run, from .bgmigrate_cache/ beside the config, or "
        "$BGMIGRATE_CACHE_DIR).",
    )
    parser.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help="Processes that read and parse files (default: one per processor from "
        f"{PARALLEL_FROM} files on, else 1). The rules run in one, in migration order.",
    )
    parser.add_argument(
        "--stdin-filename",
        default="<stdin>",
        metavar="NAME",
        help="The name to report for SQL read from stdin (default: <stdin>).",
    )
    parser.add_argument(
        "--color",
        action=argparse.BooleanOptionalAction,
        help="Colour text output (default: on a terminal).",
    )
    return parser


def _names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or [] for n in v.split(",") if n.strip())


def run(argv: Sequence[str]) -> int:
    """`bgmigrate check ARGV…`: print the report, return the exit code."""
    from bgmigrate.check.finding import Severity
    from bgmigrate.check.runner import CheckOptions, CheckProblem, check_report

    # What is imported by now lives until the end: the collector need never look at it again.
    gc.freeze()
    gc.enable()
    arguments = _parser().parse_intermixed_args(argv)
    paths = arguments.paths
    options = CheckOptions(
        paths=tuple(paths),
        stdin_text=sys.stdin.read() if "-" in paths else None,
        stdin_filename=arguments.stdin_filename,
        pg_version=arguments.pg_version,
        select=_names(arguments.select),
        ignore=_names(arguments.ignore),
        since=arguments.since,
        config_file=arguments.config,
        jobs=arguments.jobs,
        cache=arguments.cache,
    )
    color = sys.stdout.isatty() if arguments.color is None else arguments.color
    try:
        report = check_report(options, arguments.format, color=color)
    except CheckProblem as problem:
        fail(str(problem))
    for note in report.notes:
        sys.stderr.write(f"bgmigrate: {note}\n")
    threshold = None if arguments.fail_on == "never" else Severity(arguments.fail_on)
    try:
        report.write_to(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        stop_writing()  # the reader stopped reading (`| head`): the verdict stands
    return 1 if report.fails(threshold) else 0
