"""How the executor runs statements: timeouts, retries, backfill pacing, gates to check."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bgmigrate.execute.errors import UsageError

__all__ = ["ApplyOptions", "GateOptions", "parse_duration"]

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """Seconds in `text`: `2s`, `500ms`, `5min`, `1h`; a bare number means seconds."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"expected a duration such as 2s, 500ms or 5min, got {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class ApplyOptions:
    """Timeouts in seconds (0 disables `statement_timeout`).

    A step or batch that cannot get its lock within `lock_timeout` is rolled back and retried
    `retries` times, after `backoff_base * 2**attempt` seconds (capped at `backoff_max`, with
    jitter). `batch_size` overrides the plan's first batch size; later batches are sized to take
    `target_batch_seconds`; `pause_ratio` sleeps that fraction of each batch's duration after it.
    """

    lock_timeout: float = 2.0
    statement_timeout: float = 300.0
    retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    batch_size: int | None = None
    target_batch_seconds: float = 0.2
    pause_ratio: float = 0.0

    def __post_init__(self) -> None:
        if self.lock_timeout <= 0:
            raise UsageError("lock_timeout must be positive: without it DDL queues block traffic")
        for name in ("statement_timeout", "backoff_base", "backoff_max", "pause_ratio"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name} cannot be negative")
        if self.retries < 0:
            raise UsageError("retries cannot be negative")
        if self.batch_size is not None and self.batch_size < 1:
            raise UsageError("batch_size must be at least 1")
        if self.target_batch_seconds <= 0:
            raise UsageError("target_batch_seconds must be positive")

    @property
    def lock_timeout_setting(self) -> str:
        return _milliseconds(self.lock_timeout)

    @property
    def statement_timeout_setting(self) -> str:
        return _milliseconds(self.statement_timeout)


@dataclass(frozen=True)
class GateOptions:
    """Optional gates: no session of the old app (`old_app_name`, a glob on
    `pg_stat_activity.application_name`), and the deploy's health endpoint reporting
    `expect_version` as the live version."""

    old_app_name: str | None = None
    health_url: str | None = None
    expect_version: str | None = None
    health_timeout: float = 5.0

    def __post_init__(self) -> None:
        if (self.health_url is None) != (self.expect_version is None):
            raise UsageError("--health-url and --expect-version go together: give both or neither")


def _milliseconds(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"
