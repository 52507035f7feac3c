"""The blue-green proof for plans: apply a plan's rendered SQL phase by phase on a real
PostgreSQL while the old and the new app versions run their queries, between and during the
phases, and check that each version works whenever it is supposed to be live and sees the same
data as the other.

A `Version` is an app version's queries against its shape of the schema: it inserts a row
identified by a key, updates it, and reads every row back as (key, value). The harness records
what each version wrote and checks what each live version reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bgmigrate.plan.identifiers import QualifiedName
from bgmigrate.plan.introspect import introspect
from bgmigrate.plan.model import Plan
from bgmigrate.plan.render import render
from bgmigrate.plan.render.compatibility import schema_states
from bgmigrate.plan.replay import replay_files


@dataclass
class Version:
    name: str
    insert: str
    """Parameters: %(key)s, %(value)s."""
    update: str
    """Parameters: %(key)s, %(value)s."""
    read: str
    """Returns (key, value) rows."""
    value: Callable[[int], object] = lambda n: f"v{n}@example.com"
    writes_value: bool = True
    """False when this version does not know the column under change (its reads still run)."""


@dataclass
class Scenario:
    setup: str
    old: Version
    new: Version
    final: str
    """The intended final shape, created directly, to compare catalogs with."""
    tables: tuple[str, ...]
    filled: object = None
    """What a reader sees in a row whose writer did not know the column (a backfill value)."""
    after_contract: str | None = None
    """A statement the new version can run only once contract is done (e.g. a bigint value)."""
    shared: bool = True
    """Both versions read the same rows; else each only its own (a dropped table)."""
    bridge: Version | None = None
    """With --dual-write app: the new version as deployed until contract (it writes both
    shapes); `new` is the one that runs from contract on."""


@dataclass
class Outcome:
    errors: dict[str, list[str]] = field(default_factory=lambda: {"old": [], "new": []})
    iterations: dict[str, int] = field(default_factory=lambda: {"old": 0, "new": 0})
    written: dict[str, tuple[str, object]] = field(default_factory=dict)
    """key → (writer, value)."""


class _Runner:
    def __init__(self, dsn: str, scenario: Scenario, outcome: Outcome) -> None:
        self.dsn = dsn
        self.scenario = scenario
        self.outcome = outcome
        self.counter = 0
        self.lock = threading.Lock()
        self.contracting = False

    def version(self, role: str) -> Version:
        if role == "old":
            return self.scenario.old
        if self.scenario.bridge is not None and not self.contracting:
            return self.scenario.bridge
        return self.scenario.new

    def iteration(self, connection: psycopg.Connection, role: str) -> None:
        version = self.version(role)
        with self.lock:
            self.counter += 1
            n = self.counter
        key = f"{role}-{n}"
        try:
            connection.execute(version.insert, {"key": key, "value": version.value(n)})
            final = version.value(n + 100_000)
            connection.execute(version.update, {"key": key, "value": final})
            connection.execute(version.read).fetchall()
        except psycopg.Error as error:
            self.outcome.errors[role].append(f"{type(error).__name__}: {error}".strip())
            return
        with self.lock:
            self.outcome.written[key] = (role, final if version.writes_value else None)
            self.outcome.iterations[role] += 1

    def check_reads(self, role: str) -> None:
        """Every row written so far reads back, through this version, as expected."""
        version = self.version(role)
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            try:
                rows = {str(k): v for k, v in connection.execute(version.read).fetchall()}
            except psycopg.Error as error:
                self.outcome.errors[role].append(f"read: {error}")
                return
        for key, (writer, value) in list(self.outcome.written.items()):
            if not self.scenario.shared and writer != role:
                continue
            if key not in rows:
                self.outcome.errors[role].append(f"{role} cannot see row {key}")
            elif version.writes_value:
                expected = value if value is not None else self.scenario.filled
                if str(rows[key]) != str(expected):
                    self.outcome.errors[role].append(
                        f"{role} reads {rows[key]!r} for {key} written by {writer}, "
                        f"expected {expected!r}"
                    )


class _Workload:
    """An app version running its queries in a loop on its own connection."""

    def __init__(self, runner: _Runner, role: str) -> None:
        self.runner = runner
        self.role = role
        self.stop = threading.Event()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with _app_connection(self.runner.dsn) as connection:
            while True:
                self.runner.iteration(connection, self.role)
                self.started.set()
                if self.stop.is_set():
                    return

    def __enter__(self) -> _Workload:
        self.thread.start()
        self.started.wait(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def _app_connection(dsn: str) -> psycopg.Connection:
    """An app's connection, without server-side prepared statements: a type change makes a
    prepared statement fail once the column is swapped, a hazard the retype plan states and
    `test_operations` measures, not one the planner can remove."""
    connection = psycopg.connect(dsn, autocommit=True)
    connection.prepare_threshold = None
    return connection


def _live(plan: Plan) -> list[tuple[bool, bool]]:
    return [(state.old_works, state.new_works) for state in schema_states(plan)]


def run_plan(dsn: str, plan: Plan, scenario: Scenario, out: Path) -> Outcome:
    """Apply `plan` as its rendered SQL files, phase by phase, with the live versions running
    during each phase and checked between phases."""
    outcome = Outcome()
    runner = _Runner(dsn, scenario, outcome)
    files = {file.name: file for file in render(plan, "sql")}
    out.mkdir(parents=True, exist_ok=True)
    live = _live(plan)

    def between(state: int) -> None:
        old_live, new_live = live[state]
        with _app_connection(dsn) as connection:
            for role, alive in (("old", old_live), ("new", new_live)):
                if alive:
                    runner.iteration(connection, role)
        for role, alive in (("old", old_live), ("new", new_live)):
            if alive:
                runner.check_reads(role)

    between(0)
    for index, phase in enumerate(plan.phases, start=1):
        runner.contracting = phase.name == "contract"
        before, after = live[index - 1], live[index]
        # A version runs during a phase when it works both before and after it.
        roles = [role for role, i in (("old", 0), ("new", 1)) if before[i] and after[i]]
        workloads = [_Workload(runner, role) for role in roles]
        for workload in workloads:
            workload.__enter__()
        try:
            if not phase.is_db:
                time.sleep(0.2)  # the deploy: both versions run side by side for a while
            else:
                (name,) = [n for n in files if n.endswith(f"_{phase.name}.sql")]
                path = out / name
                path.write_text(files[name].text)
                replay_files([path], dsn)
        finally:
            for workload in workloads:
                workload.__exit__()
        between(index)
    if scenario.after_contract:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(scenario.after_contract)
    return outcome


def catalog(dsn: str, tables: tuple[str, ...]) -> dict[str, object]:
    """What must be equal between the migrated schema and the intended one, per table."""
    schema = introspect(dsn)
    result: dict[str, object] = {}
    for name in tables:
        table = schema.table(QualifiedName("public", name))
        result[name] = {
            "columns": sorted(
                (c.name, c.type, c.not_null, c.default, c.identity, c.collation)
                for c in table.columns
            ),
            "primary_key": table.primary_key,
            "indexes": sorted(
                (i.name.name, i.definition, i.unique, i.primary, i.valid) for i in table.indexes
            ),
            "constraints": sorted(
                (c.name, c.kind, c.definition, c.validated) for c in table.constraints
            ),
            "sequences": sorted(str(c.owned_sequence) for c in table.columns if c.owned_sequence),
            "triggers": sorted(t.name for t in table.triggers),
            "views": sorted((str(v.name), v.definition) for v in table.views),
        }
    return result


def final_catalog(server_dsn: str, final: str, tables: tuple[str, ...]) -> dict[str, object]:
    """The catalog of `final` created directly in a scratch database."""
    import uuid

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"final_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = make_conninfo(**{**conninfo_to_dict(server_dsn), "dbname": name})
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(final)
        return catalog(dsn, tables)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def apply_all(dsn: str, plan: Plan, out: Path) -> None:
    """Run every db phase's rendered SQL file, in order, with no app running."""
    out.mkdir(parents=True, exist_ok=True)
    for file in render(plan, "sql"):
        path = out / file.name
        path.write_text(file.text)
        replay_files([path], dsn)
