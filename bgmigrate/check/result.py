"""The outcome of one `check` run, as every report format receives it."""

from __future__ import annotations

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.source.layouts.base import Skipped
from bgmigrate.source.unit import Phase, Unit, UnitKind
from bgmigrate.values import Value, field, frozen_value, value

__all__ = ["CheckResult", "CheckedUnit"]


@frozen_value
class CheckedUnit(Value):
    """What the reports need of a unit once it is checked. Its text is kept only when a
    finding points into it, so a run's memory grows with its findings, not with its corpus."""

    path: str
    kind: UnitKind
    phase: Phase
    statements: int
    text: str = ""

    @classmethod
    def of(cls, unit: Unit, *, keep_text: bool = True) -> CheckedUnit:
        text = unit.text if keep_text else ""
        return cls(unit.path, unit.kind, unit.phase, len(unit.statements), text)


@value
class CheckResult(Value):
    """Units checked (in order) and their findings (in unit, then location order)."""

    units: list[CheckedUnit]
    findings: list[Finding] = field(default_factory=list)
    pg_version: int = 16
    layouts: list[tuple[str, str]] = field(default_factory=list)
    """(directory, layout name) for each directory read as a migration tool lays it out."""
    skipped: list[Skipped] = field(default_factory=list)
    """The files and parts of files not checked, each with its reason."""

    notes: list[str] = field(default_factory=list)
    """What the run chose on the user's behalf (where it found migrations, that nothing
    changed since `--since`), one line each, for stderr: not part of any report."""

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if not f.suppressed and f.severity is severity)

    @property
    def suppressed(self) -> int:
        return sum(1 for f in self.findings if f.suppressed)

    def fails(self, fail_on: Severity | None) -> bool:
        """True when an unsuppressed finding is at or above `fail_on` (None: never fail)."""
        if fail_on is None:
            return False
        return any(not f.suppressed and f.severity.rank >= fail_on.rank for f in self.findings)
