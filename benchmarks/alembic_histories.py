"""How much of real Alembic histories bgmigrate analyses, and how fast it checks one revision.

Usage (the histories are fetched into a temporary folder, never committed):

    python benchmarks/alembic_histories.py PROJECT_PATH [PROJECT_PATH …]
    python benchmarks/alembic_histories.py --dsn "host=… user=…" PROJECT_PATH
    python benchmarks/alembic_histories.py --one-revision REVISION_FILE

A project path is anything `bgmigrate check` accepts for Alembic: an alembic.ini, a script
directory, a versions directory. Run it in an environment where the project's own imports
resolve (its virtualenv), as a user would run bgmigrate. For each project it prints the number
of revisions, how many rendered offline, how many needed the replay into PostgreSQL, how many
were analysed data-blind (neither worked; run with reads returning no rows), and the reasons
of the unanalysable ones.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import subprocess
import sys
import time
from pathlib import Path

UNANALYSABLE = "unanalysable-revision"
DATA_BLIND = "data-blind-revision"


def measure_project(path: Path, dsn: str | None) -> None:
    from bgmigrate.source.alembic import alembic_units

    started = time.perf_counter()
    units = alembic_units([path], dsn=dsn)
    elapsed = time.perf_counter() - started
    # In a process of its own: the imports a full run makes would help revisions render.
    offline = int(
        subprocess.run(
            [sys.executable, __file__, "--count-offline", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    failed = [u for u in units if any(p.rule == UNANALYSABLE for p in u.problems)]
    blind = [u for u in units if any(p.rule == DATA_BLIND for p in u.problems)]
    analysed = len(units) - len(failed)
    replayed = analysed - offline - len(blind)
    print(
        f"{path}: {len(units)} revisions; {offline} offline, {replayed} by replay, "
        f"{len(blind)} data-blind, {len(failed)} unanalysable: "
        f"{100 * analysed / max(len(units), 1):.1f}% analysed in {elapsed:.1f} s"
    )
    for unit in blind:
        print(f"  data-blind: {Path(unit.path).name}")
    reasons = collections.Counter(
        next(p.message for p in u.problems if p.rule == UNANALYSABLE)[:150] for u in failed
    )
    for reason, count in reasons.most_common():
        print(f"  {count} × {reason}")


def count_offline(path: Path) -> int:
    """Revisions that render without a database at the first attempt, in migration order."""
    from bgmigrate.source.alembic import find_project
    from bgmigrate.source.alembic.capture import RevisionFailed
    from bgmigrate.source.alembic.graph import order_revisions
    from bgmigrate.source.alembic.offline import render_offline

    project = find_project(path)
    if project is None:
        sys.exit(f"{path}: not an Alembic project")
    count = 0
    for revision in order_revisions(project.revisions()):
        try:
            render_offline(revision, project)
        except RevisionFailed:
            continue
        count += 1
    return count


def measure_one_revision(path: Path, runs: int = 10) -> None:
    """Whole-process time of checking one revision file: start, render, check, exit."""
    script = (
        "import sys\n"
        "from bgmigrate.check.engine import CheckSettings, check_units, select_rules\n"
        "from bgmigrate.rules import CATALOG\n"
        "from bgmigrate.source.alembic import alembic_units\n"
        "check_units(alembic_units([sys.argv[1]]), CheckSettings(rules=select_rules(CATALOG)))\n"
    )
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(path)], check=True)
        times.append(time.perf_counter() - started)
    print(
        f"{path}: whole process min {min(times) * 1000:.0f} ms, "
        f"median {statistics.median(times) * 1000:.0f} ms over {runs} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--one-revision", type=Path)
    parser.add_argument("--dsn", help="replay on this server (default: embedded PostgreSQL)")
    parser.add_argument("--count-offline", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.count_offline:
        print(count_offline(arguments.count_offline))
        return
    if arguments.one_revision:
        measure_one_revision(arguments.one_revision)
    for path in arguments.paths:
        measure_project(path, arguments.dsn)


if __name__ == "__main__":
    main()
