"""`--format gitlab`: a GitLab Code Quality report (a JSON list of issues).

Severity mapping: error → `critical`, warning → `major`, info → `info`. GitLab ranks
`blocker` above `critical`; bgmigrate keeps `blocker` free because none of its verdicts is
more certain than "this breaks the running version", which `critical` already says. Only
unsuppressed findings are listed. Fingerprints ignore line numbers (see `fingerprint.py`),
so moving a statement does not make GitLab report it as fixed and new.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.annotation import annotation_message
from bgmigrate.check.report.fingerprint import Fingerprints
from bgmigrate.check.report.paths import repository_path
from bgmigrate.check.report.stream import ReportWriter, Sink, render_result
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped

__all__ = ["SEVERITY", "Writer", "render"]

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    return render_result(Writer, result, rules, color=color)


class Writer(ReportWriter):
    """`json.dumps(issues, indent=2)`, written one issue at a time."""

    def __init__(self, out: Sink, rules: Mapping[str, Rule], **run: Any) -> None:
        super().__init__(out, rules, **run)
        self._fingerprint = Fingerprints()
        self._issues = 0

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        for finding in findings:
            fingerprint = self._fingerprint(finding)
            if finding.suppressed:
                continue
            issue = json.dumps(_issue(finding, fingerprint), indent=2).replace("\n", "\n  ")
            self.out.write(f"{',' if self._issues else '['}\n  {issue}")
            self._issues += 1

    def finish(self, skipped: Sequence[Skipped]) -> None:
        self.out.write("\n]\n" if self._issues else "[]\n")


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "description": annotation_message(finding),
        "check_name": finding.rule,
        "fingerprint": fingerprint,
        "severity": SEVERITY[finding.severity],
        "location": {
            "path": repository_path(finding.path),
            "lines": {"begin": finding.location.line, "end": finding.location.end_line},
        },
    }
