"""`--format sarif`: SARIF 2.1.0, as GitHub code scanning and other viewers accept it.

The driver lists the rules that have findings, in order of first appearance, and each
result's `ruleIndex` points into that list. A finding whose rule is not in the catalog
(e.g. `syntax-error`, which the parser reports) gets a descriptor made from the finding.
Suppressed findings stay in the log with an `inSource` suppression carrying the tag's
reason, so viewers show them as dismissed rather than losing them.

Positions: SARIF regions are 1-based with an exclusive `endColumn`, while a `Location`
is inclusive, hence the `+ 1`. Columns count Unicode code points (`columnKind`).
The project publishes no homepage yet, so the driver has no `informationUri`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bgmigrate import __version__
from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.annotation import annotation_message
from bgmigrate.check.report.fingerprint import Fingerprints
from bgmigrate.check.report.paths import report_root, repository_path
from bgmigrate.check.report.stream import ReportWriter, Sink, Spool, render_result
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped

__all__ = ["FINGERPRINT_KEY", "LEVEL", "SCHEMA_URI", "Writer", "render"]

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "bgmigrateFinding/v1"
"""The `partialFingerprints` key of our line-independent fingerprint (see fingerprint.py)."""


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    return render_result(Writer, result, rules, color=color)


_RESULTS = "\0results\0"
"""Stands in for the results in the log rendered without them."""


class Writer(ReportWriter):
    """`json.dumps(log, indent=2)`, the results written as they come into a spool: the rules
    the findings name, and the root their paths are under, come before them in the log."""

    def __init__(self, out: Sink, rules: Mapping[str, Rule], **run: Any) -> None:
        super().__init__(out, rules, **run)
        self._rule_index: dict[str, int] = {}
        self._descriptors: list[dict[str, Any]] = []
        self._first_path: str | None = None
        self._fingerprint = Fingerprints()
        self._results = Spool()
        self._count = 0

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        for finding in findings:
            if self._first_path is None:
                self._first_path = finding.path
            if finding.rule not in self._rule_index:
                self._rule_index[finding.rule] = len(self._descriptors)
                self._descriptors.append(_descriptor(finding, self.rules.get(finding.rule)))
            entry = _result(finding, self._rule_index[finding.rule], self._fingerprint(finding))
            # At the depth of the log's results: eight spaces.
            rendered = json.dumps(entry, indent=2).replace("\n", "\n        ")
            self._results.write(f"{',' if self._count else ''}\n        {rendered}")
            self._count += 1

    def finish(self, skipped: Sequence[Skipped]) -> None:
        log = {
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "bgmigrate",
                            "version": __version__,
                            "semanticVersion": __version__,
                            "rules": self._descriptors,
                        }
                    },
                    # Where %SRCROOT% is: viewers that know the checkout resolve the relative
                    # URIs against it anyway; the others (and a local SARIF viewer) need it.
                    "originalUriBaseIds": {"%SRCROOT%": {"uri": _root_uri(self._first_path)}},
                    "columnKind": "unicodeCodePoints",
                    "results": _RESULTS if self._count else [],
                }
            ],
        }
        before, _, after = json.dumps(log, indent=2).partition(json.dumps(_RESULTS))
        self.out.write(before)
        if self._count:
            self.out.write("[")
            self._results.close_into(self.out)
            self.out.write("\n      ]")
        self.out.write(after + "\n")


def _root_uri(first: str | None) -> str:
    """The repository root the relative URIs are under, as a directory URI (ending in /)."""
    return report_root(first).as_uri().rstrip("/") + "/"


def _descriptor(finding: Finding, rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "id": finding.rule,
            "name": finding.rule,
            "shortDescription": {"text": finding.rule},
            "defaultConfiguration": {"level": LEVEL[finding.severity]},
            "properties": {"tags": [finding.category.value]},
        }
    return {
        "id": rule.name,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why, "markdown": rule.why},
        "help": {"text": _help(rule, bold=""), "markdown": _help(rule, bold="**")},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": [rule.category.value]},
    }


def _help(rule: Rule, *, bold: str) -> str:
    """Why and what to do instead; `rule.why` and `rule.safe_alternative` are Markdown,
    which also reads well as plain text, so only the headings differ."""
    sections = [rule.summary, f"{bold}Why{bold}\n\n{rule.why}"]
    advice = rule.safe_alternative
    if rule.plan_command:
        advice = f"{advice}\n\n`{rule.plan_command}`"
    sections.append(f"{bold}Safe alternative{bold}\n\n{advice}")
    return "\n\n".join(sections)


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": annotation_message(finding)},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.suppressed:
        suppression: dict[str, str] = {"kind": "inSource"}
        if finding.suppression_reason:
            suppression["justification"] = finding.suppression_reason
        entry["suppressions"] = [suppression]
    return entry


def _location(finding: Finding) -> dict[str, Any]:
    span = finding.location
    return {
        "physicalLocation": {
            "artifactLocation": _artifact(finding.path),
            "region": {
                "startLine": span.line,
                "startColumn": span.column,
                "endLine": span.end_line,
                "endColumn": span.end_column + 1,
            },
        }
    }


def _artifact(path: str) -> dict[str, str]:
    """Relative to the checkout (`%SRCROOT%`) when possible, else an absolute file URI."""
    posix = repository_path(path)
    if Path(posix).is_absolute():
        return {"uri": Path(posix).as_uri()}
    return {"uri": quote(posix), "uriBaseId": "%SRCROOT%"}
