"""Backoff between attempts: exponential, jittered, capped; a clean failure after the last."""

from __future__ import annotations

import random

import pytest
from psycopg import errors

from bgmigrate.execute.errors import ExecutionError
from bgmigrate.execute.options import ApplyOptions, parse_duration
from bgmigrate.execute.retry import backoff_delay, with_lock_retries


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    options = ApplyOptions(backoff_base=0.5, backoff_max=4.0)
    rng = random.Random(7)
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        delays = {backoff_delay(attempt, options, rng) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1, "jitter spreads the waits"


def test_lock_failures_are_retried_then_reported_as_resumable() -> None:
    attempts: list[int] = []
    retries: list[str] = []
    waits: list[float] = []

    def action() -> None:
        attempts.append(1)
        raise errors.LockNotAvailable("canceling statement due to lock timeout")

    options = ApplyOptions(retries=3, lock_timeout=0.5)
    with pytest.raises(ExecutionError, match="no lock within lock_timeout 500ms, 4 attempts"):
        with_lock_retries(
            action,
            what="expand step 1/1",
            options=options,
            on_retry=retries.append,
            sleep=waits.append,
        )
    assert len(attempts) == 4
    assert len(retries) == len(waits) == 3
    assert retries[0].startswith("expand step 1/1: no lock within lock_timeout 500ms; attempt 2")


def test_success_after_a_lock_failure_returns_the_result() -> None:
    outcomes = iter([errors.LockNotAvailable("timeout"), "done"])

    def action() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = with_lock_retries(
        action, what="step", options=ApplyOptions(), on_retry=lambda _: None, sleep=lambda _: None
    )
    assert result == "done"


def test_other_database_errors_are_not_retried() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise errors.UndefinedTable("relation does not exist")

    with pytest.raises(errors.UndefinedTable):
        with_lock_retries(
            action,
            what="step",
            options=ApplyOptions(),
            on_retry=lambda _: None,
            sleep=lambda _: None,
        )
    assert calls == [1]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2.0), ("500ms", 0.5), ("5min", 300.0), ("1h", 3600.0), ("3", 3.0), ("0", 0.0)],
)
def test_durations_read_like_postgres_settings(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_unreadable_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a duration such as 2s"):
        parse_duration("2 weeks")
