"""`--format gitlab`: a GitLab Code Quality report (a JSON list of issues).

Severity mapping: error → `critical`, warning → `major`, info → `info`. GitLab ranks
`blocker` above `critical`; bgmigrate keeps `blocker` free because none of its verdicts is
more certain than "this breaks the running version", which `critical` already says. Only
unsuppressed findings are listed. Fingerprints ignore line numbers (see `fingerprint.py`),
so moving a statement does not make GitLab report it as fixed and new.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.annotation import annotation_message
from bgmigrate.check.report.fingerprint import fingerprints
from bgmigrate.check.report.paths import repository_path
from bgmigrate.check.result import CheckResult
from bgmigrate.check.rule import Rule

__all__ = ["SEVERITY", "render"]

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    issues = [
        _issue(finding, fingerprint)
        for finding, fingerprint in zip(result.findings, fingerprints(result.findings), strict=True)
        if not finding.suppressed
    ]
    return json.dumps(issues, indent=2) + "\n"


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
