"""How much of real Alembic histories bgmigrate analyses where only bgmigrate is installed, as
in a pre-commit hook's environment.

Usage (the histories are fetched into a temporary folder, never committed):

    python benchmarks/alembic_bare_env.py --venv /tmp/bare PATH [PATH …]

Builds the virtualenv `--venv` with `pip install` of this checkout and nothing else (unless it
exists), then runs `bgmigrate check PATH --format json` there for each path (a directory
holding a project's revisions) and prints one Markdown row per path: revisions, analysed,
with a `missing-imports` note, data-blind, unanalysable, `syntax-error` findings, findings at a
file or line that is not a unit's own, and the other findings.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTES = {"missing-imports", "unanalysable-revision", "data-blind-revision"}


def bare_environment(path: Path) -> Path:
    """The `bgmigrate` command of a virtualenv holding this checkout's install only."""
    command = path / "bin" / "bgmigrate"
    if not command.exists():
        venv.create(path, with_pip=True)
        subprocess.run([path / "bin" / "python", "-m", "pip", "install", "-q", REPO], check=True)
    return command


def measure(command: Path, project: Path) -> str:
    result = subprocess.run(
        [command, "check", project, "--format", "json"], capture_output=True, text=True
    )
    if result.returncode == 2:
        return f"| {project} | error: {result.stderr.strip()} |"
    report = json.loads(result.stdout)
    revisions = {u["path"] for u in report["units"] if u["kind"] == "alembic"}
    units = {u["path"] for u in report["units"]}
    length = {p: len(Path(p).read_text(encoding="utf-8").splitlines()) for p in units}
    rules = collections.Counter(f["rule"] for f in report["findings"] if f["path"] in revisions)
    failed = {f["path"] for f in report["findings"] if f["rule"] == "unanalysable-revision"}
    noted = {f["path"] for f in report["findings"] if f["rule"] == "missing-imports"}
    foreign = [
        f
        for f in report["findings"]
        if f["path"] not in units or not 1 <= f["line"] <= length[f["path"]]
    ]
    analysed = len(revisions) - len(failed)
    others = sum(count for rule, count in rules.items() if rule not in NOTES)
    return (
        f"| {project} | {len(revisions)} | {analysed} ({100 * analysed / len(revisions):.1f} %) "
        f"| {len(noted)} | {rules['data-blind-revision']} | {len(failed)} "
        f"| {rules['syntax-error']} | {len(foreign)} | {others} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("paths", nargs="+", type=Path)
    arguments = parser.parse_args()
    command = bare_environment(arguments.venv)
    print(
        "| project | revisions | analysed | missing-imports | data-blind | unanalysable "
        "| syntax-error | elsewhere | other findings |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in arguments.paths:
        print(measure(command, path), flush=True)


if __name__ == "__main__":
    sys.exit(main())
