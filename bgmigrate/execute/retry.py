"""Short locks: take a lock within `lock_timeout` or roll back, wait, and try again.

A DDL statement waiting for its lock blocks every query queued behind it, so the executor never
waits long: it gives up after `lock_timeout`, backs off exponentially with jitter (so that
several executors or app retries do not align), and after `retries` attempts fails cleanly,
leaving the phase resumable.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from bgmigrate.execute.errors import ExecutionError
from bgmigrate.execute.options import ApplyOptions

__all__ = ["backoff_delay", "with_lock_retries"]

T = TypeVar("T")


def backoff_delay(attempt: int, options: ApplyOptions, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (from 0): half to all of the exponential
    delay, so waits grow but never synchronise."""
    ceiling = min(options.backoff_max, options.backoff_base * 2**attempt)
    return (rng or random).uniform(ceiling / 2, ceiling)


def with_lock_retries(
    action: Callable[[], T],
    *,
    what: str,
    options: ApplyOptions,
    on_retry: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `action`, retrying it when it could not get a lock in time (or hit a deadlock).

    `action` must leave nothing behind when it fails (one transaction, rolled back). After the
    last attempt an ExecutionError says so, with exit code 3.
    """
    from psycopg import errors

    attempts = options.retries + 1
    for attempt in range(attempts):
        try:
            return action()
        except (errors.LockNotAvailable, errors.DeadlockDetected) as error:
            reason = (
                "a deadlock"
                if isinstance(error, errors.DeadlockDetected)
                else f"no lock within lock_timeout {options.lock_timeout_setting}"
            )
            if attempt + 1 == attempts:
                raise ExecutionError(
                    f"{what}: {reason}, {attempts} attempts. Another session holds a "
                    "conflicting lock (see pg_locks / pg_stat_activity); nothing was left "
                    "half done: run the same command again when it is gone, or raise "
                    "--retries / --lock-timeout"
                ) from None
            delay = backoff_delay(attempt, options)
            on_retry(f"{what}: {reason}; attempt {attempt + 2} of {attempts} in {delay:.1f}s")
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")
