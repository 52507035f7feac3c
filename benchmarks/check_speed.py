"""How fast `bgmigrate check` is, side by side with squawk on the same files.

(a) The pre-commit case: one small migration file, whole process (interpreter start, imports,
    check, JSON report), N runs each, without the cache (`--no-cache`: a new file is a miss);
    target: median at most 50 ms. The same run must not import alembic, sqlalchemy, psycopg or
    sqlglot; `python -X importtime` shows what it does import, and the heaviest packages are
    listed with the bgmigrate module that pulls them in.
(b) Throughput: a generated corpus of 2,000 files / 20,000 statements (benchmarks/corpus.py),
    without the cache: one process pinned to one core (`--jobs 1`, `taskset -c 0`), and the
    default on both cores (files read and parsed in worker processes); target: at least 30,000
    statements/s on 2 cores. Peak memory (max RSS, the largest process; the median of three
    runs) at 500, 1,000, 2,000 and 4,000 files shows whether memory stays flat as the corpus
    grows; target: 4,000 files at most 2,000 files' peak + 10%.
(c) The cache: the same corpus checked again unchanged (a hit), whole process; target: at most
    0.2 s. Every report (one core, workers, cached) must be byte for byte the same.
(d) Alembic: each revision of fixtures/alembic_app checked on its own, whole process; target:
    at most 150 ms. With `--history PATH` (repeatable), whole histories too, e.g. pypi/warehouse's
    `warehouse/migrations` fetched into a temporary folder; target: at most 3.0 s.

Wall times suffer when other work shares the machine; CPU time (user + system) much less, so
both are reported, with the load average at the start.

Requires `bgmigrate` and `squawk` (pip install -e '.[dev]'); counts instructions with valgrind
when it is on PATH (apt-get install valgrind).

    python benchmarks/check_speed.py              # measure and print
    python benchmarks/check_speed.py --record     # also rewrite its section of RESULTS.md
    python benchmarks/check_speed.py --profile    # also cProfile the corpus run in-process
    python benchmarks/check_speed.py --history /tmp/warehouse/warehouse/migrations
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus import STATEMENTS_PER_FILE, migration, write_corpus
from results_file import machine_lines, write_section

FORBIDDEN = ("alembic", "sqlalchemy", "psycopg", "psycopg_binary", "psycopg2", "sqlglot")
SINGLE_FILE_TARGET_MS = 50
THROUGHPUT_TARGET = 30_000
WARM_TARGET_S = 0.2
REVISION_TARGET_MS = 150
HISTORY_TARGET_S = 3.0
MEMORY_GROWTH_TARGET = 0.10
MEMORY_RUNS = 3
ALEMBIC_APP_REVISIONS = (
    Path(__file__).resolve().parent.parent / "fixtures" / "alembic_app" / "migrations" / "versions"
)
# Runs the console entry point under `python -X importtime -c`, where argv[0] is "-c".
_RUN_CLI = "import sys; sys.argv[0] = 'bgmigrate'; from bgmigrate.cli import main; main()"
# `import time: <self us> | <cumulative us> | <two spaces per nesting level><module>`
_IMPORT_TIME = re.compile(
    r"^import time:\s+(?P<self>\d+) \|\s+(?P<cumulative>\d+) \| (?P<indent> *)(?P<module>\S+)$",
    re.MULTILINE,
)
# Peak RSS (KB) and CPU seconds of one child process, measured by a parent that runs nothing else.
_CHILD_RESOURCES = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"
)


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"check_speed.py: `{name}` is not installed (pip install -e '.[dev]')")
    return found


def _pinned(command: list[str]) -> list[str]:
    """`command` on core 0 only, when taskset exists."""
    return ["taskset", "-c", "0", *command] if shutil.which("taskset") else command


@dataclass
class Timing:
    wall: list[float]
    """Seconds, one per run."""
    cpu: float
    """Mean user + system seconds per run."""

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def p90(self) -> float:
        ordered = sorted(self.wall)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def time_commands(commands: dict[str, list[str]], runs: int, warmup: int) -> dict[str, Timing]:
    """Run each command `warmup` + `runs` times (exit codes ignored) and time the last `runs`.

    The commands take turns, one run of each per round: this VM's speed drifts by half over
    minutes, and interleaving gives every command the same conditions, so that their ratios
    (to squawk, to `python -c pass`) hold even when the absolute times move.
    """
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu = dict.fromkeys(commands, 0.0)
    for round_number in range(warmup + runs):
        for name, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_number >= warmup:
                wall[name].append(elapsed)
                cpu[name] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {name: Timing(wall[name], cpu[name] / runs) for name in commands}


@dataclass
class Resources:
    max_rss_mb: float
    cpu: float


def child_resources(command: list[str], runs: int = MEMORY_RUNS) -> Resources:
    """Peak memory and CPU time of `command`: the medians of `runs` runs (a run's peak moves
    by a few hundred KB with where the allocator happened to place things)."""
    measured = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD_RESOURCES, *command],
            capture_output=True,
            text=True,
            check=True,
        )
        max_rss_kb, cpu = done.stdout.split()
        measured.append((int(max_rss_kb) / 1024, float(cpu)))  # Linux reports kilobytes
    return Resources(
        statistics.median(rss for rss, _ in measured), statistics.median(c for _, c in measured)
    )


def instructions(command: list[str]) -> int | None:
    """Instructions `command` executes, counted by callgrind (None without valgrind): unlike
    times, the same whatever else the machine is doing."""
    if not shutil.which("valgrind"):
        return None
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
    )
    counted = re.search(r"Collected : (\d+)", done.stderr)
    return int(counted[1]) if counted else None


# --- (a) imports on the pre-commit path --------------------------------------------------------


@dataclass
class Import:
    module: str
    self_us: int
    cumulative_us: int
    depth: int
    parent: str | None = None

    @property
    def package(self) -> str:
        return self.module.split(".")[0]


def import_profile(cli_args: Sequence[str], cwd: Path) -> list[Import]:
    """Every module the command imports, in `-X importtime` order (children before parents)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _RUN_CLI, *cli_args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    imports = [
        Import(
            match["module"], int(match["self"]), int(match["cumulative"]), len(match["indent"]) // 2
        )
        for match in _IMPORT_TIME.finditer(done.stderr)
    ]
    # A module's importer is the next one printed at a lower depth.
    pending: dict[int, list[Import]] = defaultdict(list)
    for entry in imports:
        for depth in [d for d in pending if d > entry.depth]:
            for child in pending.pop(depth):
                child.parent = entry.module
        pending[entry.depth].append(entry)
    return imports


def importer(entry: Import, by_module: dict[str, Import]) -> str:
    """Who imported `entry`'s package first: the first module of another package above it, and
    the bgmigrate module above that when it is not the same."""
    chain = [entry]
    while chain[-1].parent in by_module:
        chain.append(by_module[chain[-1].parent])
    outside = next((e for e in chain if e.package != entry.package), None)
    own = next((e for e in chain if e.package == "bgmigrate"), None)
    if outside is None:
        return "imported at run time, from a function"
    if own is None:
        return f"`{outside.module}`, itself imported at run time"
    return f"`{outside.module}`" + (f" ← `{own.module}`" if own is not outside else "")


def heaviest_packages(imports: list[Import], top: int = 10) -> list[tuple[str, float, str]]:
    """(package, milliseconds of its own modules' import time, importer) for the costliest
    packages other than bgmigrate."""
    by_module = {entry.module: entry for entry in imports}
    cost: dict[str, int] = defaultdict(int)
    first: dict[str, Import] = {}
    for entry in imports:
        if entry.package != "bgmigrate":
            cost[entry.package] += entry.self_us
            first.setdefault(entry.package, entry)
    ranked = sorted(cost.items(), key=lambda item: item[1], reverse=True)[:top]
    return [(package, us / 1000, importer(first[package], by_module)) for package, us in ranked]


def heaviest_own_modules(imports: list[Import], top: int = 8) -> list[tuple[str, float]]:
    """(bgmigrate module, milliseconds of its own import time) by cost."""
    own = [entry for entry in imports if entry.package == "bgmigrate"]
    own.sort(key=lambda entry: entry.self_us, reverse=True)
    return [(entry.module, entry.self_us / 1000) for entry in own[:top]]


def forbidden_imports(imports: list[Import]) -> list[str]:
    """Each forbidden package imported, named with what imported it."""
    by_module = {entry.module: entry for entry in imports}
    outermost = [
        entry
        for entry in imports
        if entry.package in FORBIDDEN
        and (entry.parent is None or by_module[entry.parent].package != entry.package)
    ]
    return [
        f"{entry.module} (imported by {entry.parent or 'the command'}, via "
        f"{importer(entry, by_module)})"
        for entry in outermost
    ]


# --- (b) the corpus ----------------------------------------------------------------------------


@dataclass
class CorpusRun:
    statements: int
    findings: int
    squawk_findings: int


def count_corpus_results(bgmigrate: str, squawk: str, folder: Path) -> CorpusRun:
    ours = subprocess.run(
        [bgmigrate, "check", str(folder), "--format", "json"], capture_output=True, text=True
    )
    if ours.returncode not in (0, 1):
        raise SystemExit(f"bgmigrate check failed on the corpus: {ours.stderr.strip()}")
    report = json.loads(ours.stdout)
    theirs = subprocess.run(
        [squawk, f"{folder}/*.sql", "--reporter", "json"], capture_output=True, text=True
    )
    return CorpusRun(
        statements=sum(unit["statements"] for unit in report["units"]),
        findings=len(report["findings"]),
        squawk_findings=len(json.loads(theirs.stdout or "[]")),
    )


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True).stdout


def link_subset(source: Path, target: Path, files: int) -> Path:
    """A folder holding the first `files` files of `source` (hard links: no copying)."""
    target.mkdir()
    for path in sorted(source.iterdir())[:files]:
        os.link(path, target / path.name)
    return target


def profile_corpus(folder: Path, top: int = 25) -> str:
    """cProfile of the whole check over `folder`, in-process, sorted by cumulative time."""
    from bgmigrate.check.report import FORMATS
    from bgmigrate.check.runner import CheckOptions, run_check
    from bgmigrate.rules import CATALOG

    def check() -> None:
        result = run_check(CheckOptions(paths=(str(folder),)))
        FORMATS["json"](result, CATALOG, color=False)

    profiler = cProfile.Profile()
    profiler.runcall(check)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- the report --------------------------------------------------------------------------------


def _instruction_lines(counts: dict[str, int | None]) -> list[str]:
    if any(count is None for count in counts.values()):
        return []
    floor = counts["python -c pass"] or 1
    return [
        "Instructions executed (callgrind, one run each): the same on a loaded machine, so "
        "they compare runs made at different times.",
        "",
        "| command | instructions | ratio to `python -c pass` |",
        "|---|---|---|",
        *(
            f"| `{command}` | {count / 1e6:,.0f} M | {count / floor:.1f}× |"
            for command, count in counts.items()
            if count is not None
        ),
        "",
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of the one-file case")
    parser.add_argument("--corpus-runs", type=int, default=5, help="runs over the corpus")
    parser.add_argument("--files", type=int, default=2000, help="files in the corpus")
    parser.add_argument(
        "--memory-sizes", default="500,1000,2000,4000", help="corpus sizes (files) for peak memory"
    )
    parser.add_argument("--record", action="store_true", help="rewrite its RESULTS.md section")
    parser.add_argument("--profile", action="store_true", help="cProfile the corpus run")
    parser.add_argument(
        "--revision-runs", type=int, default=7, help="runs of each fixture Alembic revision"
    )
    parser.add_argument(
        "--history",
        type=Path,
        action="append",
        default=[],
        help="an Alembic history to time whole (repeatable), e.g. a fetched pypi/warehouse",
    )
    parser.add_argument("--history-runs", type=int, default=5, help="runs of each history")
    args = parser.parse_args()
    sizes = [int(size) for size in args.memory_sizes.split(",")]

    bgmigrate, squawk = _executable("bgmigrate"), _executable("squawk")
    load = os.getloadavg()
    problems: list[str] = []
    """Wrong results: the exit code is 1."""
    missed: list[str] = []
    """Targets not reached: reported."""
    started_in = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="bgmigrate-speed-") as tmp:
        work = Path(tmp)
        # Measure what users run: an installed package has its bytecode compiled, so let the
        # children cache it (the warm-up runs write it) instead of compiling every module on
        # every run, as PYTHONDONTWRITEBYTECODE=1 would make them; keep the cache out of the tree.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        # Run as users do: from the repository, on paths relative to it.
        os.chdir(work)
        one = Path("0042_add_column.sql")
        one.write_text(migration(42))

        # (a)
        timings = time_commands(
            {
                "json": [bgmigrate, "check", str(one), "--format", "json", "--no-cache"],
                # What the pre-commit hook runs: the default text report.
                "text": [bgmigrate, "check", str(one), "--no-cache"],
                "squawk": [squawk, str(one), "--reporter", "json"],
                "floor": [sys.executable, "-c", "pass"],
            },
            args.runs,
            warmup=3,
        )
        ours_one, ours_one_text = timings["json"], timings["text"]
        theirs_one, interpreter = timings["squawk"], timings["floor"]
        counts = {
            "bgmigrate check one.sql --format json --no-cache": instructions(
                [bgmigrate, "check", str(one), "--format", "json", "--no-cache"]
            ),
            "bgmigrate check one.sql --no-cache": instructions(
                [bgmigrate, "check", str(one), "--no-cache"]
            ),
            "squawk one.sql --reporter json": instructions(
                [squawk, str(one), "--reporter", "json"]
            ),
            "python -c pass": instructions([sys.executable, "-c", "pass"]),
        }
        # After the timed runs, so that it sees the bytecode cache they wrote.
        imports = import_profile(["check", one.name, "--format", "json", "--no-cache"], cwd=work)
        forbidden = forbidden_imports(imports)
        if not imports:
            problems.append("no import was recorded: is bgmigrate importable?")
        problems += [f"forbidden import on the pre-commit path: {f}" for f in forbidden]
        for label, timing in (("json", ours_one), ("text", ours_one_text)):
            if timing.median * 1000 > SINGLE_FILE_TARGET_MS:
                missed.append(
                    f"one file, {label} report, took {_ms(timing.median)} (median), "
                    f"target {SINGLE_FILE_TARGET_MS} ms"
                )

        # (b)
        largest = max([args.files, *sizes])
        everything = Path("all")
        write_corpus(everything, largest)
        corpus = link_subset(everything, Path(f"corpus-{args.files}"), args.files)
        counted = count_corpus_results(bgmigrate, squawk, corpus)
        expected = args.files * STATEMENTS_PER_FILE
        if counted.statements != expected:
            problems.append(
                f"bgmigrate split {counted.statements} statements, the corpus has {expected}"
            )
        check_corpus = [bgmigrate, "check", str(corpus), "--format", "json"]
        corpus_timings = time_commands(
            {
                "one core": _pinned([*check_corpus, "--no-cache", "--jobs", "1"]),
                "two cores": [*check_corpus, "--no-cache"],
                "squawk": _pinned([squawk, f"{corpus}/*.sql", "--reporter", "json"]),
                "squawk, two cores": [squawk, f"{corpus}/*.sql", "--reporter", "json"],
            },
            args.corpus_runs,
            warmup=1,
        )
        ours_corpus, theirs_corpus = corpus_timings["one core"], corpus_timings["squawk"]
        ours_two, theirs_two = corpus_timings["two cores"], corpus_timings["squawk, two cores"]
        ours_rate = expected / ours_two.median
        if ours_rate < THROUGHPUT_TARGET:
            missed.append(
                f"{ours_rate:,.0f} statements/s on two cores, target {THROUGHPUT_TARGET:,}"
            )
        # (c) a populating run, then the unchanged corpus again: every run a hit.
        reports = {
            "one core": _output([*check_corpus, "--no-cache", "--jobs", "1"]),
            "two cores": _output([*check_corpus, "--no-cache"]),
            "cache miss": _output(check_corpus),
            "cache hit": _output(check_corpus),
        }
        problems += [
            f"the report of `{name}` differs from the one-core report"
            for name, text in reports.items()
            if text != reports["one core"]
        ]
        warm = time_commands({"hit": check_corpus}, args.corpus_runs, warmup=1)["hit"]
        if warm.median > WARM_TARGET_S:
            missed.append(f"a cache hit took {warm.median:.2f} s, target {WARM_TARGET_S} s")
        corpus_counts = {
            "one core, `--jobs 1 --no-cache`": instructions(
                [*check_corpus, "--no-cache", "--jobs", "1"]
            ),
            "cache hit": instructions(check_corpus),
        }
        memory = []
        for size in sizes:
            folder = (
                everything
                if size == largest
                else link_subset(everything, Path(f"memory-{size}"), size)
            )
            memory.append(
                (
                    size,
                    child_resources(
                        [bgmigrate, "check", str(folder), "--format", "json", "--no-cache"]
                    ),
                    child_resources(_pinned([squawk, f"{folder}/*.sql", "--reporter", "json"])),
                    # Every statement still read, parsed and tracked, but (almost) no findings:
                    # what memory the statements themselves cost, apart from the report.
                    child_resources(
                        _pinned(
                            [
                                bgmigrate,
                                "check",
                                str(folder),
                                "--format",
                                "json",
                                "--select",
                                "syntax-error",
                                "--no-cache",
                            ]
                        )
                    ),
                )
            )
        # (d)
        revision_timings = time_commands(
            {
                revision.name: [bgmigrate, "check", str(revision), "--format", "json", "--no-cache"]
                for revision in sorted(ALEMBIC_APP_REVISIONS.glob("*.py"))
            },
            args.revision_runs,
            warmup=1,
        )
        slow_revisions = [
            name
            for name, timing in revision_timings.items()
            if timing.median * 1000 > REVISION_TARGET_MS
        ]
        if slow_revisions:
            missed.append(
                f"{len(slow_revisions)} of {len(revision_timings)} fixture Alembic revisions took "
                f"more than {REVISION_TARGET_MS} ms: {', '.join(slow_revisions)}"
            )
        history_timings = time_commands(
            {
                str(history): [bgmigrate, "check", str(history), "--format", "json", "--no-cache"]
                for history in (path.resolve() for path in args.history)
            },
            args.history_runs,
            warmup=1,
        )
        missed += [
            f"{history} took {timing.median:.2f} s (median), target {HISTORY_TARGET_S} s"
            for history, timing in history_timings.items()
            if timing.median > HISTORY_TARGET_S
        ]
        profile = profile_corpus(corpus) if args.profile else ""
        os.chdir(started_in)

    heavy = heaviest_packages(imports)
    total_import_ms = sum(entry.self_us for entry in imports) / 1000
    lines = [
        "## Check speed: cache and workers (issue 16, `benchmarks/check_speed.py`)",
        "",
        *machine_lines(),
        f"- load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"(wall times grow with it; CPU times much less)",
        "- timer: perf_counter and getrusage around each child, the commands taking turns; "
        f"corpus runs pinned with {'taskset -c 0' if shutil.which('taskset') else 'nothing'}",
        "",
        f"### (a) One small file, whole process, `--no-cache` ({args.runs} runs; 10 statements)",
        "",
        "| tool | median | p90 | CPU (user+sys) | ratio to squawk | ratio to `python -c pass` |",
        "|---|---|---|---|---|---|",
        *(
            f"| {label} | {_ms(timing.median)} | {_ms(timing.p90)} | {_ms(timing.cpu)} | "
            f"{timing.median / theirs_one.median:.0f}× | "
            f"{timing.median / interpreter.median:.1f}× |"
            for label, timing in (
                ("`bgmigrate check one.sql --format json`", ours_one),
                (
                    "`bgmigrate check one.sql` (text: what the pre-commit hook prints)",
                    ours_one_text,
                ),
                ("`squawk one.sql --reporter json`", theirs_one),
                ("floor: `python -c pass` (this interpreter, no imports)", interpreter),
            )
        ),
        "",
        f"Target: median ≤ {SINGLE_FILE_TARGET_MS} ms — json "
        f"**{'met' if ours_one.median * 1000 <= SINGLE_FILE_TARGET_MS else 'missed'}**, text "
        f"**{'met' if ours_one_text.median * 1000 <= SINGLE_FILE_TARGET_MS else 'missed'}**.",
        "",
        *_instruction_lines(counts),
        "Forbidden imports (alembic, sqlalchemy, psycopg, sqlglot) on this path: "
        + (", ".join(forbidden) if forbidden else "**none**")
        + ".",
        "",
        f"Imports, `python -X importtime` (one run; {total_import_ms:.0f} ms in all). "
        "The heaviest packages, by their own modules' time:",
        "",
        "| package | ms | pulled in by |",
        "|---|---|---|",
        *(f"| {package} | {ms:.0f} | {by} |" for package, ms, by in heavy),
        "",
        "The heaviest bgmigrate modules, by their own time:",
        "",
        "| module | ms |",
        "|---|---|",
        *(f"| `{module}` | {ms:.0f} |" for module, ms in heaviest_own_modules(imports)),
        "",
        f"### (b) Corpus of {args.files:,} files / {expected:,} statements, `--no-cache` "
        f"({args.corpus_runs} runs)",
        "",
        "| tool | median wall | statements/s (wall) | CPU (all processes) | findings |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {timing.median:.2f} s | {expected / timing.median:,.0f} | "
            f"{timing.cpu:.2f} s | {found} |"
            for label, timing, found in (
                ("bgmigrate, one core (`--jobs 1`, pinned)", ours_corpus, counted.findings),
                ("bgmigrate, two cores (workers)", ours_two, counted.findings),
                ("squawk, one core (pinned)", theirs_corpus, counted.squawk_findings),
                ("squawk, two cores", theirs_two, counted.squawk_findings),
            )
        ),
        "",
        f"Ratio bgmigrate / squawk on two cores: {ours_two.median / theirs_two.median:.1f}× the "
        f"wall time. Target ≥ {THROUGHPUT_TARGET:,} statements/s on two cores (wall) — "
        f"**{'met' if ours_rate >= THROUGHPUT_TARGET else 'missed'}**.",
        "",
        f"### (c) The same corpus again, unchanged: a cache hit ({args.corpus_runs} runs)",
        "",
        f"Median {warm.median:.2f} s wall, {warm.cpu:.2f} s CPU (target ≤ {WARM_TARGET_S} s — "
        f"**{'met' if warm.median <= WARM_TARGET_S else 'missed'}**). The reports of one core, "
        "two cores, a cache miss and a cache hit are "
        + (
            "**byte for byte the same**."
            if len(set(reports.values())) == 1
            else "**not** the same."
        )
        + "",
        "",
        *(
            [
                "| run over the corpus | instructions (callgrind) |",
                "|---|---|",
                *(
                    f"| {label} | {count / 1e6:,.0f} M |"
                    for label, count in corpus_counts.items()
                    if count is not None
                ),
            ]
            if all(corpus_counts.values())
            else []
        ),
        "",
        f"As the corpus grows (medians of {MEMORY_RUNS} runs each): peak memory (max RSS) and "
        "statements per CPU "
        "second, which stays level when the work per statement does not grow with the corpus:",
        "",
        "| files | statements | bgmigrate RSS | bgmigrate statements/s (CPU) | squawk RSS "
        "| squawk statements/s (CPU) | bgmigrate RSS, `--select syntax-error` |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {size:,} | {size * STATEMENTS_PER_FILE:,} | {ours.max_rss_mb:.0f} MB | "
            f"{size * STATEMENTS_PER_FILE / ours.cpu:,.0f} | {theirs.max_rss_mb:.0f} MB | "
            f"{size * STATEMENTS_PER_FILE / theirs.cpu:,.0f} | {quiet.max_rss_mb:.0f} MB |"
            for size, ours, theirs, quiet in memory
        ),
    ]
    first_size, last_size = memory[0][0], memory[-1][0]
    for label, column in (("with every rule", 1), ("with syntax-error only", 3)):
        first_rss, last_rss = memory[0][column].max_rss_mb, memory[-1][column].max_rss_mb
        per_thousand = (last_rss - first_rss) / (last_size - first_size) * 1000
        lines += [
            "",
            f"bgmigrate {label} grows {per_thousand:.1f} MB per 1,000 files "
            f"({last_rss / first_rss:.2f}× from {first_size:,} to {last_size:,} files).",
        ]
    rss = {size: ours.max_rss_mb for size, ours, _, _ in memory}
    if last_size // 2 in rss:
        growth = rss[last_size] / rss[last_size // 2] - 1
        met = growth <= MEMORY_GROWTH_TARGET
        lines += [
            "",
            f"Target: {last_size:,} files at most {last_size // 2:,} files' peak + "
            f"{MEMORY_GROWTH_TARGET:.0%}: {rss[last_size]:.1f} MB against "
            f"{rss[last_size // 2]:.1f} MB, {growth:+.0%} — **{'met' if met else 'missed'}**.",
        ]
        if not met:
            missed.append(
                f"peak memory grows {growth:+.0%} from {last_size // 2:,} to {last_size:,} files, "
                f"target {MEMORY_GROWTH_TARGET:+.0%}"
            )
    lines += [
        "",
        "The findings and the report are written as the run goes, never held (about five "
        "findings per file here); what grows is what the run knows of the schema its "
        "migrations built (`RunState`: every table, column, default and index so far, about "
        "1.1 tables per file in this corpus); each file is let go once read.",
    ]
    lines += [
        "",
        f"### (d) Alembic, whole process, `--no-cache` ({args.revision_runs} runs of each "
        "revision)",
        "",
        "Each revision of `fixtures/alembic_app` checked on its own:",
        "",
        "| revision | median | p90 | CPU |",
        "|---|---|---|---|",
        *(
            f"| `{name}` | {_ms(timing.median)} | {_ms(timing.p90)} | {_ms(timing.cpu)} |"
            for name, timing in revision_timings.items()
        ),
        "",
        f"Target: ≤ {REVISION_TARGET_MS} ms — met by "
        f"**{len(revision_timings) - len(slow_revisions)} of {len(revision_timings)}**"
        + (f" (not by {', '.join(slow_revisions)})." if slow_revisions else "."),
    ]
    if history_timings:
        lines += [
            "",
            f"Whole histories ({args.history_runs} runs each; target ≤ {HISTORY_TARGET_S} s):",
            "",
            "| history | median wall | min–max | CPU |",
            "|---|---|---|---|",
            *(
                f"| `{history}` | {timing.median:.2f} s | {min(timing.wall):.2f}–"
                f"{max(timing.wall):.2f} s | {timing.cpu:.2f} s |"
                for history, timing in history_timings.items()
            ),
        ]
    if missed or problems:
        lines += ["", "Targets missed and problems:", "", *(f"- {f}" for f in missed + problems)]
    text = "\n".join(lines) + "\n"
    print(text)
    if profile:
        print(profile)
    if args.record:
        write_section("check-speed-16", text)
    for problem in problems:
        print(f"check_speed.py: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
