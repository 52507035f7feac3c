"""What can stop an executor command, each kind carrying the exit code of `plans.md`.

0 done or already done · 1 a gate refused · 2 bad plan or usage · 3 database error after
retries, the phase left resumable. A bad plan file raises `bgmigrate.plan.model.PlanError`
(exit code 2) and is not repeated here.
"""

from __future__ import annotations

__all__ = [
    "ExecutionError",
    "ExecutorBusy",
    "ExecutorError",
    "GateRefused",
    "Interrupted",
    "UsageError",
    "VerifyFailed",
]


class ExecutorError(Exception):
    """Base of the executor's failures; `exit_code` is what the command exits with."""

    exit_code = 3


class GateRefused(ExecutorError):
    """A precondition of the phase does not hold; nothing was changed by this run."""

    exit_code = 1


class ExecutorBusy(GateRefused):
    """Another executor holds this plan's lock; the message names that session."""


class VerifyFailed(GateRefused):
    """A phase's verify query was not true; the phase is not marked done."""


class UsageError(ExecutorError):
    """The command was called wrongly (no DSN, a phase that cannot be approved, …)."""

    exit_code = 2


class ExecutionError(ExecutorError):
    """The database failed a step or a batch, after retries; run the same command to resume."""

    exit_code = 3


class Interrupted(ExecutionError):
    """SIGINT or SIGTERM stopped the run between two steps or batches; it resumes from there."""
