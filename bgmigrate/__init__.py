"""bgmigrate: keep PostgreSQL schema changes from breaking blue-green deploys.

The public Python API; its names are imported on first use, so that `bgmigrate check` (which
imports this package first) does not pay for the planner and the executor.

    from bgmigrate import check_sql
    result = check_sql("ALTER TABLE users RENAME COLUMN email TO email_address")
    [finding.rule for finding in result.findings]   # ['rename-column', 'require-lock-timeout']
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "check_sql": "bgmigrate.check.api",
    "run_check": "bgmigrate.check.runner",
    "CheckOptions": "bgmigrate.check.runner",
    "CheckResult": "bgmigrate.check.result",
    "Finding": "bgmigrate.check.finding",
    "Severity": "bgmigrate.check.finding",
    "CATALOG": "bgmigrate.rules",
    "Plan": "bgmigrate.plan.model",
    "load_plan": "bgmigrate.plan.model",
    "build_plan": "bgmigrate.plan.operations",
    "PlanOptions": "bgmigrate.plan.operations",
    "apply_phase": "bgmigrate.execute.executor",
    "approve_phase": "bgmigrate.execute.executor",
    "plan_status": "bgmigrate.execute.status",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bgmigrate' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
