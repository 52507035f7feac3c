"""How long a fleet rollout takes, and what the executor costs per target.

A fleet of N small databases (each a copy of one template: `public.users` with a few thousand
rows) gets the planner's rename plan users.email → email_address: expand, then backfill, with
`--parallel 1` and `--parallel P` (a fresh fleet for each), through `apply_fleet` as the CLI
runs it (plain-lines display, to memory). Then the executor's fixed cost per target, each
measured R times on one database:

- connect: a connection as the executor opens it;
- state, first use: creating the `bgmigrate` state schema (once per database);
- state, later: checking that it is there and current;
- lock: taking and releasing the executor lock (its own connection and transaction);
- already-done run: a whole `apply_phase` of a phase that is done (connect, state, lock,
  plan record, phase states): what every finished target costs when a rollout is rerun.

    python benchmarks/fleet.py                  # measure and print
    python benchmarks/fleet.py --record         # also rewrite its section of RESULTS.md
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from results_file import machine_lines, write_section

from bgmigrate.embedded import start_embedded_postgres
from bgmigrate.execute.connection import connect
from bgmigrate.execute.executor import apply_phase
from bgmigrate.execute.fleet import FleetOptions, apply_fleet
from bgmigrate.execute.fleet_progress import LinesFleetDisplay
from bgmigrate.execute.locking import plan_lock
from bgmigrate.execute.options import ApplyOptions, GateOptions
from bgmigrate.execute.progress import JsonLinesReporter
from bgmigrate.execute.state import StateStore
from bgmigrate.execute.targets import Target
from bgmigrate.plan.model import Plan

TEMPLATE = "fleet_template"


def database(dsn: str, name: str) -> str:
    params = conninfo_to_dict(dsn)
    params["dbname"] = name
    return make_conninfo(**params)


def make_template(dsn: str, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {TEMPLATE}")
    with psycopg.connect(database(dsn, TEMPLATE), autocommit=True) as conn:
        conn.execute("CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL)")
        conn.execute("CREATE INDEX users_email_idx ON public.users (email)")
        conn.execute(
            "INSERT INTO public.users SELECT g, 'user' || g || '@example.com'"
            " FROM generate_series(1, %s) g",
            [rows],
        )
        conn.execute("VACUUM ANALYZE public.users")


def make_fleet(dsn: str, prefix: str, count: int) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as admin:
        for n in range(count):
            admin.execute(f"CREATE DATABASE {prefix}_{n} TEMPLATE {TEMPLATE}")
    return [database(dsn, f"{prefix}_{n}") for n in range(count)]


def rename_plan(dsn: str) -> Plan:
    made = subprocess.run(
        [
            *(sys.executable, "-m", "bgmigrate", "plan", "rename", "users.email"),
            *("email_address", "--dsn", database(dsn, TEMPLATE), "--format", "toml"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Plan.from_toml(made.stdout)


def rollout(plan: Plan, dsns: list[str], parallel: int) -> dict[str, float]:
    seconds = {}
    targets = [Target(dsn) for dsn in dsns]
    for phase in ("expand", "backfill"):
        started = time.perf_counter()
        result = apply_fleet(
            plan,
            phase,
            targets,
            fleet=FleetOptions(parallel=parallel),
            options=ApplyOptions(),
            gates=GateOptions(),
            display=LinesFleetDisplay(io.StringIO()),
            stop=threading.Event(),
        )
        seconds[phase] = time.perf_counter() - started
        assert result.exit_code == 0, result.summary()
    return seconds


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def overheads(dsn: str, plan: Plan, repeat: int) -> dict[str, list[float]]:
    fresh = make_fleet(dsn, "fleet_overhead", repeat)
    quiet = JsonLinesReporter(io.StringIO())

    def connect_once() -> None:
        connect(fresh[0], application_name="bench").close()

    def first_state(target: str) -> Callable[[], None]:
        def run() -> None:
            with connect(target, application_name="bench") as conn:
                StateStore(conn).ensure()

        return run

    pending = iter(fresh)
    results = {
        "connect": timed(connect_once, repeat),
        "state, first use (includes connect)": timed(lambda: first_state(next(pending))(), repeat),
        "state, later (includes connect)": timed(first_state(fresh[0]), repeat),
    }

    def lock_once() -> None:
        with plan_lock(
            fresh[0], plan.id, application_name="bench", reporter=quiet, stop=threading.Event()
        ):
            pass

    results["lock, take and release"] = timed(lock_once, repeat)
    apply_phase(plan, "expand", fresh[0], reporter=quiet)
    results["already-done run (apply_phase)"] = timed(
        lambda: apply_phase(plan, "expand", fresh[0], reporter=quiet), repeat
    )
    return results


def report(args: argparse.Namespace, load: str, runs: dict[int, dict[str, float]],
           costs: dict[str, list[float]]) -> str:  # fmt: skip
    lines = [
        "## Fleet rollout (issue 14) (`benchmarks/fleet.py`)",
        "",
        *machine_lines(),
        f"- load average at start: {load} (other work shared the machine when above 0)",
        f"- fleet: {args.databases} databases on one embedded PostgreSQL 18 server, each a copy "
        f"of a template with `public.users` ({args.rows:,} rows, an index on email); the change: "
        "the planner's rename plan users.email → email_address (expand: column, dual-write "
        "trigger, index CONCURRENTLY; backfill with its verify query), default executor settings",
        "",
        "Connections go over the server's Unix socket; a network adds its round trips to "
        "every figure.",
        "",
        "### Rollout time",
        "",
        "| --parallel | expand | backfill | both | per target |",
        "|---:|---:|---:|---:|---:|",
    ]
    for parallel, seconds in runs.items():
        both = seconds["expand"] + seconds["backfill"]
        lines.append(
            f"| {parallel} | {seconds['expand']:.1f} s | {seconds['backfill']:.1f} s | "
            f"{both:.1f} s | {both / args.databases * 1000:.0f} ms |"
        )
    lines += [
        "",
        f"### Executor overhead per target ({args.repeat} runs each, one database)",
        "",
        "| what | median ms | min ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for what, times in costs.items():
        lines.append(
            f"| {what} | {statistics.median(times):.1f} | {min(times):.1f} | {max(times):.1f} |"
        )
    fixed = statistics.median(costs["already-done run (apply_phase)"])
    serial = runs[1]["expand"] + runs[1]["backfill"]
    per_target = serial / args.databases * 1000
    lines += [
        "",
        f"The fixed cost of a phase on a target (an already-done run, {fixed:.0f} ms: connect, "
        f"state, lock, plan record) is {2 * fixed / per_target:.0%} of a target's "
        f"{per_target:.0f} ms for expand and backfill at --parallel 1 with these small tables; "
        "the rest is the phase's own statements. The state schema is created once per "
        "database, on its first phase.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=20, help="runs of each overhead")
    parser.add_argument("--record", action="store_true", help="rewrite the section in RESULTS.md")
    args = parser.parse_args()
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with start_embedded_postgres() as dsn:
        make_template(dsn, args.rows)
        plan = rename_plan(dsn)
        runs = {}
        for parallel in (1, args.parallel):
            dsns = make_fleet(dsn, f"fleet_p{parallel}", args.databases)
            runs[parallel] = rollout(plan, dsns, parallel)
        costs = overheads(dsn, plan, args.repeat)
    text = report(args, load, runs, costs)
    print(text)
    if args.record:
        write_section("fleet", text)


if __name__ == "__main__":
    main()
