"""Checks that must hold before a phase runs; each refusal says what is missing and what to do.

Before any phase: every earlier db phase done. Before a phase that needs approval (contract
always): an approval of this exact checksum. Before contract: the verify queries of the earlier
phases still true. When asked: no session of the old app connected, matched by a glob on
`pg_stat_activity.application_name` (`*` any run of characters, `?` one character, the whole
name must match, this database only), and the deploy's health endpoint reporting the expected
version as live.
"""

from __future__ import annotations

import fnmatch
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bgmigrate.execute.connection import one_line, redact_dsn
from bgmigrate.execute.errors import ExecutionError, GateRefused, UsageError, VerifyFailed
from bgmigrate.execute.locking import Session
from bgmigrate.execute.options import ApplyOptions, GateOptions
from bgmigrate.execute.state import Approval, PhaseState, StateStore
from bgmigrate.execute.steps import set_local_timeouts
from bgmigrate.plan.model import Plan, PlanPhase

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "check_approval",
    "check_earlier_phases",
    "check_health",
    "check_old_app_sessions",
    "check_optional_gates",
    "check_verify_queries",
    "glob_to_like",
    "run_verify",
]


def check_earlier_phases(plan: Plan, phase: PlanPhase, states: Mapping[str, PhaseState]) -> None:
    """Phases run in order: every db phase before `phase` must be done."""
    for earlier in plan.phases_before(phase.name):
        if not earlier.is_db:
            continue
        state = states.get(earlier.name, PhaseState(earlier.name, None))
        if not state.done:
            raise GateRefused(
                f"the {phase.name} phase of plan {plan.id} runs after {earlier.name}, which is "
                f"{state.label}: run `bgmigrate apply PLAN --phase {earlier.name}` first"
            )


def check_approval(store: StateStore, plan: Plan, phase: PlanPhase) -> Approval:
    """The approval of `phase` for this exact checksum."""
    approvals = store.approvals(plan.id)
    for approval in reversed(approvals):
        if approval.phase == phase.name and approval.checksum == plan.checksum:
            return approval
    stale = [a for a in approvals if a.phase == phase.name]
    detail = (
        f" (approved by {stale[-1].by} for {stale[-1].checksum}, another version of the plan)"
        if stale
        else ""
    )
    raise GateRefused(
        f"the {phase.name} phase of plan {plan.id} needs an approval of this exact plan "
        f"({plan.checksum}){detail}: review it, then run "
        f"`bgmigrate approve PLAN --phase {phase.name} --by NAME`"
    )


def run_verify(conn: psycopg.Connection, query: str, options: ApplyOptions) -> object:
    """The single value `query` returns, read in a read-only transaction."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            set_local_timeouts(conn, options)
            row = conn.execute(query).fetchone()
    except psycopg.Error as error:
        raise ExecutionError(f"verify query failed: {one_line(str(error))}: {query}") from None
    if row is None or len(row) != 1:
        raise ExecutionError(f"a verify query must return one row of one boolean: {query}")
    return row[0]


def check_verify_queries(
    conn: psycopg.Connection, plan: Plan, phase: PlanPhase, options: ApplyOptions
) -> None:
    """The verify queries of the db phases before `phase` still hold (data has not diverged)."""
    for earlier in plan.phases_before(phase.name):
        if earlier.verify is None:
            continue
        value = run_verify(conn, earlier.verify, options)
        if value is not True:
            raise VerifyFailed(
                f"the verify query of the {earlier.name} phase is {value!r}, not true, so the "
                f"{phase.name} phase would lose data: {earlier.verify}. Find why the old and new "
                f"shapes diverged (the sync trigger?), re-run the {earlier.name} phase, then retry"
            )


def glob_to_like(pattern: str) -> str:
    """A LIKE pattern (escape character backslash) matching what the glob `pattern` matches."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def check_old_app_sessions(conn: psycopg.Connection, pattern: str) -> None:
    """No session of this database (other than ours) has an application_name matching."""
    rows = conn.execute(
        "SELECT pid, application_name, host(client_addr), backend_start, state"
        " FROM pg_stat_activity WHERE application_name LIKE %s AND pid <> pg_backend_pid()"
        " AND datname = current_database() ORDER BY backend_start",
        [glob_to_like(pattern)],
    ).fetchall()
    # LIKE is the filter; fnmatch double-checks, so that glob semantics are what users get.
    sessions = [Session(*row) for row in rows if fnmatch.fnmatchcase(row[1], pattern)]
    if sessions:
        shown = "; ".join(session.describe() for session in sessions[:5])
        more = f" and {len(sessions) - 5} more" if len(sessions) > 5 else ""
        raise GateRefused(
            f"{len(sessions)} session(s) of the old app ({pattern!r}) are still connected: "
            f"{shown}{more}. Retire the old version first; contract would break its queries"
        )


def check_health(url: str, expect_version: str, timeout: float) -> Mapping[str, Any]:
    """The health endpoint answers JSON whose `version` is `expect_version`."""
    shown = redact_dsn(url)
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"--health-url must be an http:// or https:// URL, got {shown}")
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": "bgmigrate"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(1_000_000)
    except urllib.error.HTTPError as error:
        raise GateRefused(
            f"health endpoint {shown} answered HTTP {error.code}: cannot confirm that version "
            f"{expect_version} is live"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise GateRefused(
            f"cannot reach health endpoint {shown} ({reason}): cannot confirm that version "
            f"{expect_version} is live"
        ) from None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or "version" not in data:
        raise GateRefused(
            f'health endpoint {shown} did not answer JSON with a "version" field: {body[:200]!r}'
        )
    if str(data["version"]) != expect_version:
        environment = data.get("environment")
        where = f" (environment {environment})" if environment is not None else ""
        raise GateRefused(
            f"health endpoint {shown} reports version {data['version']}{where} live, not "
            f"{expect_version}: finish the switch to the new version before this phase"
        )
    return data


def check_optional_gates(conn: psycopg.Connection, gates: GateOptions) -> list[str]:
    """The gates asked for on the command line; returns what each confirmed."""
    confirmed = []
    if gates.old_app_name:
        check_old_app_sessions(conn, gates.old_app_name)
        confirmed.append(f"no session of the old app ({gates.old_app_name!r})")
    if gates.health_url and gates.expect_version:
        data = check_health(gates.health_url, gates.expect_version, gates.health_timeout)
        environment = data.get("environment")
        where = f" in {environment}" if environment is not None else ""
        confirmed.append(f"version {data['version']} live{where}")
    return confirmed
