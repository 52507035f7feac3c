"""Check every statement of PostgreSQL's own regression-test SQL and count what happens.

The corpus is the 233 files under `libpg_query/test/sql/postgres_regress/` in pglast's source
distribution: every corner of the grammar, psql meta-commands, deliberate syntax errors and
odd encodings. It is downloaded into a temporary folder on each run and never kept.

Each file is checked on its own, in-process, the way `bgmigrate check FILE` checks it, and its
result is rendered in every report format; then the whole directory is checked once through the
real command line. Any exception is a crash: its traceback is printed and the exit code is 1.

    python benchmarks/regress.py                 # download, check, print the counts
    python benchmarks/regress.py --record        # also rewrite its section of RESULTS.md
    python benchmarks/regress.py --sdist pglast-8.8.tar.gz   # reuse a downloaded sdist
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from results_file import machine_lines, write_section

REGRESS_DIR = "libpg_query/test/sql/postgres_regress/"


@dataclass
class Tally:
    files: int = 0
    statements: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    syntax_error_kinds: Counter[str] = field(default_factory=Counter)
    files_with_syntax_errors: int = 0
    not_checked: dict[str, str] = field(default_factory=dict)
    """File → the one-line problem the checker reported instead of a result (exit 2)."""
    crashes: dict[str, str] = field(default_factory=dict)
    """File → traceback."""

    @property
    def syntax_errors(self) -> int:
        return self.findings["syntax-error"]


@contextmanager
def regress_corpus(sdist: Path | None, pglast_version: str) -> Iterator[Path]:
    """A temporary folder holding the regression SQL files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bgmigrate-regress-") as tmp:
        folder = Path(tmp)
        if sdist is None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-binary",
                    ":all:",
                    "--no-deps",
                    f"pglast=={pglast_version}",
                    "-d",
                    str(folder),
                ],
                check=True,
            )
            sdist = next(folder.glob("pglast-*.tar.gz"))
        target = folder / "postgres_regress"
        target.mkdir()
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                inside = member.name.partition("/")[2]
                if member.isfile() and inside.startswith(REGRESS_DIR) and inside.endswith(".sql"):
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    (target / Path(inside).name).write_bytes(extracted.read())
        yield target


def check_each_file(files: list[Path]) -> Tally:
    """Check, count and render every file in-process; exceptions are recorded as crashes."""
    from bgmigrate.check.report import FORMATS
    from bgmigrate.check.runner import CheckOptions, CheckProblem, run_check
    from bgmigrate.parse.postgres import parse_statement
    from bgmigrate.rules import CATALOG
    from bgmigrate.source import read_sql_unit
    from bgmigrate.source.reading import read_source_text

    tally = Tally()
    for path in files:
        tally.files += 1
        try:
            result = run_check(CheckOptions(paths=(path.name,), cwd=path.parent))
            for render in FORMATS.values():
                render(result, CATALOG, color=False)
            unit = read_sql_unit(path.name, read_source_text(path).text)
            tally.statements += len(unit.statements)
            for statement in unit.statements:
                tally.operations.update(type(op).__name__ for op in parse_statement(statement))
        except CheckProblem as problem:
            tally.not_checked[path.name] = str(problem).replace(f"{path.parent}/", "")
            continue
        except Exception:
            tally.crashes[path.name] = traceback.format_exc()
            print(f"CRASH {path.name}\n{tally.crashes[path.name]}", file=sys.stderr)
            continue
        tally.syntax_error_kinds.update(
            _syntax_error_kind(f.statement) for f in result.findings if f.rule == "syntax-error"
        )
        rules = Counter(f.rule for f in result.findings)
        tally.findings.update(rules)
        tally.files_with_syntax_errors += bool(rules["syntax-error"])
    return tally


# `\d t`, `\gset`, `\.`: a backslash command where a word starts, unlike `E'\\'`.
_PSQL_META_COMMAND = re.compile(r"(?:^|\s)\\(?:[A-Za-z!?.]|$)", re.MULTILINE)
# `:name`, `:'name'`, `:"name"`, but not the `::type` of a cast nor a slice's `[1:n]`.
_PSQL_VARIABLE = re.compile(r"(?<![:\w]):['\"]?[A-Za-z_]")


def _syntax_error_kind(statement: str) -> str:
    """Why the regression SQL does not parse: most of it is written for psql, not the server."""
    if _PSQL_META_COMMAND.search(statement) or statement.endswith("\\"):
        return "psql meta-command (`\\…`) in or as the statement"
    if _PSQL_VARIABLE.search(statement):
        return "psql variable (`:name`, `:'name'`)"
    return "other (mostly deliberate errors the regression tests expect)"


@dataclass
class CommandLineRun:
    exit_code: int
    seconds: float
    statements: int
    findings: int
    stderr: str


def check_files_via_cli(files: list[Path]) -> CommandLineRun:
    """`bgmigrate check FILE… --format json`: all the files in one process, as a user runs it.

    Only files the checker accepts one by one are given: one refused file stops a whole run.
    """
    command = [_bgmigrate_executable(), "check", *(f.name for f in files), "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=files[0].parent)
    seconds = time.perf_counter() - started
    statements = findings = 0
    if done.returncode in (0, 1):
        report = json.loads(done.stdout)
        statements = sum(unit["statements"] for unit in report["units"])
        findings = len(report["findings"])
    return CommandLineRun(done.returncode, seconds, statements, findings, done.stderr.strip())


def _bgmigrate_executable() -> str:
    beside_python = Path(sys.executable).with_name("bgmigrate")
    found = str(beside_python) if beside_python.exists() else shutil.which("bgmigrate")
    if found is None:
        raise SystemExit("regress.py: the `bgmigrate` command is not installed")
    return found


def summary(tally: Tally, cli: CommandLineRun, seconds: float, pglast_version: str) -> str:
    lines = [
        "## PostgreSQL regression corpus (`benchmarks/regress.py`)",
        "",
        *machine_lines(),
        f"- corpus: the {tally.files} files under `{REGRESS_DIR}` of the pglast {pglast_version} "
        "source distribution",
        "",
        "| count | value |",
        "|---|---|",
        f"| files | {tally.files} |",
        f"| statements | {tally.statements} |",
        f"| operations | {sum(tally.operations.values())} |",
        f"| syntax errors (statements) | {tally.syntax_errors} |",
        f"| files with a syntax error | {tally.files_with_syntax_errors} |",
        f"| findings (all rules, suppressed included) | {sum(tally.findings.values())} |",
        f"| files the checker refused (exit 2, one line) | {len(tally.not_checked)} |",
        f"| **crashes** | **{len(tally.crashes)}** |",
        f"| in-process time (check + 5 renders + op count) | {seconds:.1f} s |",
        f"| `bgmigrate check FILE… --format json` (accepted files) | exit {cli.exit_code}, "
        f"{cli.seconds:.1f} s, {cli.statements} statements, {cli.findings} findings |",
    ]
    if cli.exit_code not in (0, 1):
        lines.append(f"\nThe command line run failed: `{cli.stderr}`")
    if tally.not_checked:
        lines += ["", "Files the checker refused:", ""]
        lines += [f"- `{name}`: {problem}" for name, problem in sorted(tally.not_checked.items())]
    if tally.crashes:
        lines += ["", "Crashed on:", ""]
        lines += [
            f"- `{name}`: `{trace.strip().splitlines()[-1]}`"
            for name, trace in sorted(tally.crashes.items())
        ]
    lines += ["", "Syntax errors by likely cause:", ""]
    lines += ["| likely cause | statements |", "|---|---|"]
    lines += [f"| {kind} | {n} |" for kind, n in tally.syntax_error_kinds.most_common()]
    lines += ["", "Findings by rule:", "", "| rule | findings |", "|---|---|"]
    lines += [f"| {rule} | {n} |" for rule, n in sorted(tally.findings.items())]
    lines += ["", "Operations by kind:", "", "| operation | count |", "|---|---|"]
    lines += [f"| {kind} | {n} |" for kind, n in tally.operations.most_common()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", type=Path, help="a pglast sdist already downloaded")
    parser.add_argument(
        "--pglast-version",
        default=version("pglast"),
        help="the sdist to download (default: the installed pglast, %(default)s)",
    )
    parser.add_argument("--record", action="store_true", help="rewrite its RESULTS.md section")
    args = parser.parse_args()

    with regress_corpus(args.sdist, args.pglast_version) as folder:
        files = sorted(folder.glob("*.sql"))
        started = time.perf_counter()
        tally = check_each_file(files)
        seconds = time.perf_counter() - started
        cli = check_files_via_cli([f for f in files if f.name not in tally.not_checked])
    text = summary(tally, cli, seconds, args.pglast_version)
    print(text)
    if args.record:
        write_section("regress", text)
    cli_crashed = cli.exit_code not in (0, 1) and "internal error" in cli.stderr
    return 1 if tally.crashes or cli_crashed else 0


if __name__ == "__main__":
    sys.exit(main())
