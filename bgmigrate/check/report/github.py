"""`--format github`: workflow commands that GitHub Actions turns into annotations.

One line per unsuppressed finding, e.g.
`::error file=m/0003.sql,line=3,col=1,endLine=3,endColumn=52,title=rename-column::Renaming…`.
Values are escaped as the Actions toolkit does (`escapeData`, `escapeProperty`), so a
message can span lines and a path can hold `:` or `,`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.annotation import annotation_message
from bgmigrate.check.report.paths import repository_path
from bgmigrate.check.report.stream import ReportWriter, render_result
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule

__all__ = ["Writer", "render"]

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    return render_result(Writer, result, rules, color=color)


class Writer(ReportWriter):
    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        self.out.write("".join(_command(f) + "\n" for f in findings if not f.suppressed))


def _command(finding: Finding) -> str:
    location = finding.location
    properties = {
        "file": repository_path(finding.path),
        "line": location.line,
        "col": location.column,
        "endLine": location.end_line,
        "endColumn": location.end_column,
        "title": finding.rule,
    }
    listed = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    return f"::{_COMMAND[finding.severity]} {listed}::{_escape_data(annotation_message(finding))}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")
