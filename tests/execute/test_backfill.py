"""Keyset backfill: composite and text keys, checkpoints, row locks, pacing, kills and signals."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bgmigrate.execute import locking
from bgmigrate.execute.backfill import MIN_BATCH_SIZE, batch_query, next_batch_size
from bgmigrate.execute.errors import ExecutionError, ExecutorBusy, Interrupted
from bgmigrate.execute.executor import apply_phase
from bgmigrate.execute.options import ApplyOptions
from bgmigrate.execute.progress import JsonLinesReporter, TerminalReporter, make_reporter
from bgmigrate.execute.status import plan_status
from bgmigrate.plan.model import Backfill, Plan, PlanPhase

REPO = Path(__file__).resolve().parents[2]
ROWS = 2000


def backfill_plan(backfill: Backfill, verify: str | None = None) -> Plan:
    return Plan(
        id="backfill-only",
        operation="backfill",
        target={"table": backfill.table},
        pg_version=15,
        phases=[PlanPhase(name="backfill", kind="db", backfill=backfill, verify=verify)],
    ).with_checksum()


def checkpoint(query: Any) -> tuple[Any, ...]:
    rows = query(
        "SELECT pass, last_key, rows_scanned, rows_updated, batches, pass_complete"
        " FROM bgmigrate.backfill_checkpoints"
    )
    return rows[0] if rows else ()


def update_counts(query: Any) -> dict[int, int]:
    """How many rows were updated how many times."""
    return dict(query("SELECT updates, count(*) FROM public.users GROUP BY updates"))


@pytest.fixture
def codes_table(query: Any) -> int:
    """public.codes with a composite (int, text) key, awkward text keys, and every third row
    already copied; returns the number of rows that still need the copy."""
    query(
        """
        CREATE TABLE public.codes (
            tenant integer NOT NULL,
            code text NOT NULL,
            a text NOT NULL,
            b text,
            updates integer NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant, code)
        );
        CREATE TRIGGER codes_count_updates BEFORE UPDATE ON public.codes
            FOR EACH ROW EXECUTE FUNCTION public.count_updates();
        INSERT INTO public.codes (tenant, code, a, b)
        SELECT t, c, t || '/' || c, CASE WHEN (t + length(c)) % 3 = 0 THEN t || '/' || c END
        FROM generate_series(1, 3) t,
             unnest(ARRAY['it''s', 'é-accent', 'with space', '%percent', 'a"quote', 'Zeta',
                          '10', '9', '', 'back\\slash']) c;
        """
    )
    return query("SELECT count(*) FROM public.codes WHERE b IS DISTINCT FROM a")[0][0]


def test_composite_text_key_backfill_advances_over_rows_that_do_not_match(
    users_db: str, query: Any, reporter: Any, codes_table: int
) -> None:
    plan = backfill_plan(
        Backfill(
            table="public.codes",
            key=["tenant", "code"],
            set="b = a",
            where="b IS DISTINCT FROM a",
            batch_size=4,
        ),
        verify="SELECT bool_and(b = a) FROM public.codes",
    )
    result = apply_phase(plan, "backfill", users_db, reporter=reporter)

    assert result.rows_updated == codes_table
    _, last_key, scanned, updated, _, complete = checkpoint(query)
    assert (scanned, updated, complete) == (30, codes_table, True)
    assert last_key == list(query("SELECT tenant::text, code FROM public.codes ORDER BY 1, 2")[-1])
    counts = dict(
        query(
            "SELECT b = a AND updates = 1, count(*) FROM public.codes WHERE updates > 0 GROUP BY 1"
        )
    )
    assert counts == {True: codes_table}, "each row needing the copy was updated exactly once"
    assert query("SELECT count(*) FROM public.codes WHERE updates > 1") == [(0,)]


def test_uuid_key_round_trips_through_the_checkpoint(
    users_db: str, query: Any, reporter: Any
) -> None:
    query(
        "CREATE TABLE public.tokens (id uuid PRIMARY KEY, v int, w int);"
        " INSERT INTO public.tokens SELECT gen_random_uuid(), g FROM generate_series(1, 100) g"
    )
    plan = backfill_plan(
        Backfill(table="public.tokens", key=["id"], set="w = v", where="w IS NULL", batch_size=9),
        verify="SELECT count(*) = 0 FROM public.tokens WHERE w IS DISTINCT FROM v",
    )
    assert apply_phase(plan, "backfill", users_db, reporter=reporter).rows_updated == 100


def test_progress_reports_rows_per_second_and_eta(
    users_db: str, rename_plan: Plan, reporter: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    options = ApplyOptions(batch_size=300, target_batch_seconds=10)
    apply_phase(rename_plan, "backfill", users_db, options=options, reporter=reporter)
    batches = reporter.of("backfill-batch")
    assert [b["batch_size"] for b in batches] == [300, 600, 1200]
    assert batches[-1]["rows_scanned"] == ROWS
    assert all(b["rows_per_second"] > 0 for b in batches)
    assert batches[0]["eta_seconds"] is not None
    assert batches[-1]["eta_seconds"] == 0
    assert reporter.of("backfill-start")[0]["total_estimate"] == ROWS


def test_batch_size_adapts_down_to_the_target_duration(
    users_db: str, rename_plan: Plan, reporter: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    options = ApplyOptions(batch_size=320, target_batch_seconds=0.000001)
    apply_phase(rename_plan, "backfill", users_db, options=options, reporter=reporter)
    sizes = [b["batch_size"] for b in reporter.of("backfill-batch")]
    assert sizes[:6] == [320, 160, 80, 40, 20, MIN_BATCH_SIZE]


def test_next_batch_size_moves_towards_target_at_most_twofold() -> None:
    assert next_batch_size(1000, 0.1, 0.2) == 2000
    assert next_batch_size(1000, 0.05, 0.2) == 2000
    assert next_batch_size(1000, 0.25, 0.2) == 800
    assert next_batch_size(1000, 5.0, 0.2) == 500
    assert next_batch_size(12, 5.0, 0.2) == MIN_BATCH_SIZE


def test_pause_ratio_sleeps_after_each_batch(
    users_db: str, rename_plan: Plan, reporter: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    options = ApplyOptions(batch_size=100, target_batch_seconds=1, pause_ratio=3)
    began = time.monotonic()
    apply_phase(rename_plan, "backfill", users_db, options=options, reporter=reporter)
    elapsed = time.monotonic() - began
    busy = sum(b["batch_seconds"] for b in reporter.of("backfill-batch"))
    assert elapsed >= 3 * busy * 0.9


def test_batch_query_updates_a_key_range() -> None:
    backfill = Backfill(
        table="public.codes", key=["tenant", "code"], set="b = a", where="b IS NULL"
    )
    first = batch_query(backfill, None, 500).as_string(None)
    later = batch_query(backfill, ("3", "it's"), 500).as_string(None)
    assert 'SELECT "tenant", "code" FROM public.codes ORDER BY "tenant", "code" LIMIT 500' in first
    assert """WHERE ("tenant", "code") > ('3', 'it''s') ORDER BY""" in later
    assert (
        """UPDATE public.codes SET b = a WHERE ("tenant", "code") > ('3', 'it''s')"""
        """ AND ("tenant", "code") <= (SELECT "tenant", "code" FROM batch_end) AND (b IS NULL)"""
    ) in later
    assert 'UPDATE public.codes SET b = a WHERE ("tenant", "code") <= (SELECT' in first


@pytest.mark.parametrize("after", [None, ("700",)])
def test_batch_reads_the_key_index_not_the_whole_table(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any, after: tuple[str, ...] | None
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    query("ANALYZE public.users")
    backfill = rename_plan.phase("backfill").backfill
    assert backfill is not None
    plan = "\n".join(
        row[0] for row in query("EXPLAIN " + batch_query(backfill, after, 100).as_string(None))
    )
    assert "Seq Scan" not in plan, plan
    assert "users_pkey" in plan.split("Update on users")[1], plan


def test_row_locked_by_the_app_is_waited_for_not_skipped(
    users_db: str, rename_plan: Plan, reporter: Any, query: Any, fast: ApplyOptions
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    options = ApplyOptions(
        lock_timeout=fast.lock_timeout,
        retries=1,
        backoff_base=fast.backoff_base,
        batch_size=500,
        target_batch_seconds=10,
    )
    with psycopg.connect(users_db) as app:
        app.execute("SELECT * FROM public.users WHERE id = 1800 FOR UPDATE")
        with pytest.raises(ExecutionError, match=r"backfill batch 3 of public\.users"):
            apply_phase(rename_plan, "backfill", users_db, options=options, reporter=reporter)
        app.rollback()
    # batches 1 and 2 (500 + 1000 rows) committed with their checkpoint; batch 3 rolled back
    assert checkpoint(query)[1:4] == (["1500"], 1500, 1500)
    assert update_counts(query) == {1: 1500, 0: 500}

    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    assert update_counts(query) == {1: ROWS}


def _executor(plan_file: Path, dsn: str, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bgmigrate.execute",
            "apply",
            str(plan_file),
            "--phase",
            "backfill",
            "--dsn",
            dsn,
            *options,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _slow_backfill(query: Any) -> None:
    """Make each row update take ~0.5 ms, so that a backfill of ROWS rows lasts seconds."""
    query(
        "CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$;"
        " CREATE TRIGGER b_slow BEFORE UPDATE ON public.users"
        " FOR EACH ROW EXECUTE FUNCTION public.slow()"
    )


def _wait_for_batches(query: Any, process: subprocess.Popen[str], batches: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        row = checkpoint(query) if query("SELECT to_regnamespace('bgmigrate')")[0][0] else ()
        if row and row[4] >= batches:
            return
        time.sleep(0.01)
    raise AssertionError("the backfill made no progress")


SLOW = ("--batch-size", "40", "--target-batch-seconds", "0.03", "--pause-ratio", "1")


def test_sigkill_in_the_middle_of_a_backfill_loses_nothing_and_repeats_nothing(
    users_db: str, rename_plan: Plan, plan_file: Path, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    _slow_backfill(query)
    process = _executor(plan_file, users_db, *SLOW)
    _wait_for_batches(query, process, 4)
    process.send_signal(signal.SIGKILL)
    process.wait()

    _, _, scanned, _, _, complete = checkpoint(query)
    assert not complete and 0 < scanned < ROWS
    assert update_counts(query) == {1: scanned, 0: ROWS - scanned}, (
        "a batch and its checkpoint commit together"
    )
    assert {p.name: p.status for p in plan_status(rename_plan, users_db).phases}["backfill"] == (
        "interrupted"
    )

    query("DROP TRIGGER b_slow ON public.users")
    result = apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    assert result.rows_updated == ROWS
    assert update_counts(query) == {1: ROWS}, "every row backfilled exactly once"
    assert query(
        "SELECT count(*) FROM public.users WHERE email_address IS DISTINCT FROM email"
    ) == [(0,)]


def test_sigterm_stops_after_the_current_batch_with_exit_code_3(
    users_db: str, rename_plan: Plan, plan_file: Path, reporter: Any, query: Any
) -> None:
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    _slow_backfill(query)
    process = _executor(plan_file, users_db, *SLOW)
    _wait_for_batches(query, process, 2)

    # meanwhile a second executor is turned away, naming the first one's session
    with pytest.raises(ExecutorBusy, match="'bgmigrate apply rename-users-email'"):
        apply_phase(rename_plan, "backfill", users_db, reporter=reporter)

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    assert "SIGTERM received: stopping after the current step or batch" in stderr
    assert "bgmigrate: error: stopped after batch" in stderr
    assert query(
        "SELECT status FROM bgmigrate.phase_runs WHERE phase = 'backfill' ORDER BY id DESC LIMIT 1"
    ) == [("stopped",)]
    scanned = checkpoint(query)[2]
    assert update_counts(query) == {1: scanned, 0: ROWS - scanned}

    query("DROP TRIGGER b_slow ON public.users")
    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    assert update_counts(query) == {1: ROWS}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_reporter_is_a_progress_bar_on_a_terminal_and_json_lines_elsewhere(
    users_db: str, rename_plan: Plan
) -> None:
    assert isinstance(make_reporter(io.StringIO()), JsonLinesReporter)
    screen = FakeTerminal()
    terminal = make_reporter(screen)
    assert isinstance(terminal, TerminalReporter)
    apply_phase(rename_plan, "expand", users_db, reporter=terminal)
    apply_phase(rename_plan, "backfill", users_db, reporter=terminal)
    output = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "backfill public.users" in output
    assert "rows/s" in output
    assert f"{ROWS}/{ROWS}" in output
    assert os.linesep + "{" not in output


def test_a_lost_executor_lock_stops_the_backfill_after_its_batch(
    users_db: str,
    rename_plan: Plan,
    reporter: Any,
    query: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the lock's connection is ended (by an administrator, or a pooler), the executor no
    longer holds the plan: it stops after the current batch, resumably, and says why."""
    monkeypatch.setattr(locking, "KEEP_ALIVE_SECONDS", 0.1)
    apply_phase(rename_plan, "expand", users_db, reporter=reporter)
    _slow_backfill(query)
    failures: list[BaseException] = []

    def backfill() -> None:
        try:
            apply_phase(
                rename_plan,
                "backfill",
                users_db,
                options=ApplyOptions(batch_size=40, target_batch_seconds=0.03, pause_ratio=1),
                reporter=reporter,
            )
        except BaseException as error:  # handed to the test's thread
            failures.append(error)

    runner = threading.Thread(target=backfill)
    runner.start()
    deadline = time.monotonic() + 30
    while not (
        query("SELECT to_regclass('bgmigrate.backfill_checkpoints')")[0][0] and checkpoint(query)
    ):
        assert time.monotonic() < deadline and runner.is_alive(), failures
        time.sleep(0.01)
    query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks"
        " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    runner.join(timeout=30)
    assert len(failures) == 1 and isinstance(failures[0], Interrupted), failures
    assert "run the same command again to resume" in str(failures[0])
    assert len(reporter.of("lock-lost")) == 1
    assert 0 < checkpoint(query)[2] < ROWS, "stopped in the middle"
    apply_phase(rename_plan, "backfill", users_db, reporter=reporter)
    assert update_counts(query) == {1: ROWS}
