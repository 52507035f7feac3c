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
from bgmigrate.check.report.fingerprint import fingerprints
from bgmigrate.check.report.paths import report_root, repository_path
from bgmigrate.check.result import CheckResult
from bgmigrate.check.rule import Rule

__all__ = ["FINGERPRINT_KEY", "LEVEL", "SCHEMA_URI", "render"]

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "bgmigrateFinding/v1"
"""The `partialFingerprints` key of our line-independent fingerprint (see fingerprint.py)."""


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    rule_index: dict[str, int] = {}
    descriptors = []
    for finding in result.findings:
        if finding.rule not in rule_index:
            rule_index[finding.rule] = len(descriptors)
            descriptors.append(_descriptor(finding, rules.get(finding.rule)))
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
                        "rules": descriptors,
                    }
                },
                # Where %SRCROOT% is: viewers that know the checkout resolve the relative
                # URIs against it anyway; the others (and a local SARIF viewer) need it.
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _root_uri(result)}},
                "columnKind": "unicodeCodePoints",
                "results": _results(result.findings, rule_index),
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _root_uri(result: CheckResult) -> str:
    """The repository root the relative URIs are under, as a directory URI (ending in /)."""
    first = result.findings[0].path if result.findings else None
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


def _results(findings: Sequence[Finding], rule_index: Mapping[str, int]) -> list[dict[str, Any]]:
    results = []
    for finding, fingerprint in zip(findings, fingerprints(findings), strict=True):
        entry: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": rule_index[finding.rule],
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
        results.append(entry)
    return results


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
