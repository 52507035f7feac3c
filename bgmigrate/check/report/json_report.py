"""`--format json`: the machine-readable result, exactly as `cli.md` specifies it.

One addition to the contract's example: a suppressed finding also carries
`suppression_reason` (the reason written in its `ignore` tag, "" when none was given), so
that an audit of suppressions needs no second tool. The key is present exactly when
`suppressed` is true; `check-result.schema.json` beside this module describes the whole
document. Non-ASCII text is escaped, so the output is safe on any console encoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from bgmigrate import __version__
from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped

__all__ = ["SCHEMA_VERSION", "document", "finding_entry", "render"]

SCHEMA_VERSION = 1


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    """The document with one unit or finding per line: readable, greppable, and encoded by
    json's C encoder (an `indent` would switch to the pure-Python one, 3× slower).

    The text is joined once from its pieces, each entry's dict dropped as soon as it is
    encoded: joining section by section held several copies of a large report at once."""
    pieces: list[str] = []
    for key, value in _sections(result):
        pieces.append(",\n  " if pieces else "{\n  ")
        pieces.append(f"{json.dumps(key)}: ")
        if isinstance(value, Iterator):
            count = 0
            for entry in value:
                pieces.append(",\n    " if count else "[\n    ")
                pieces.append(json.dumps(entry))
                count += 1
            pieces.append("\n  ]" if count else "[]")
        else:
            pieces.append(json.dumps(value))
    pieces.append("\n}\n")
    return "".join(pieces)


def document(result: CheckResult) -> dict[str, Any]:
    return {
        key: list(value) if isinstance(value, Iterator) else value
        for key, value in _sections(result)
    }


def _sections(result: CheckResult) -> Iterator[tuple[str, Any]]:
    """The document's keys in order; the units and the findings as iterators of entries."""
    yield "version", SCHEMA_VERSION
    yield "tool", {"name": "bgmigrate", "version": __version__}
    yield "settings", {"pg_version": result.pg_version}
    yield "units", map(_unit, result.units)
    yield "findings", map(finding_entry, result.findings)
    yield "layouts", [{"path": path, "layout": layout} for path, layout in result.layouts]
    yield "skipped", map(_skipped, result.skipped)
    yield (
        "summary",
        {
            **{severity.value: result.count(severity) for severity in Severity},
            "suppressed": result.suppressed,
            "units": len(result.units),
        },
    )


def _skipped(skipped: Skipped) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": skipped.path,
        "reason": skipped.reason.value,
        "detail": skipped.detail,
    }
    if skipped.line is not None:
        entry["line"] = skipped.line
        entry["end_line"] = skipped.end_line
    return entry


def _unit(unit: CheckedUnit) -> dict[str, Any]:
    return {
        "path": unit.path,
        "kind": unit.kind.value,
        "phase": unit.phase.value,
        "statements": unit.statements,
    }


def finding_entry(finding: Finding) -> dict[str, Any]:
    """One finding as the JSON report writes it (`bgmigrate trace` writes the same)."""
    location = finding.location
    entry: dict[str, Any] = {
        "rule": finding.rule,
        "category": finding.category.value,
        "severity": finding.severity.value,
        "path": finding.path,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "end_column": location.end_column,
        "statement": finding.statement,
        "message": finding.message,
        "safe_alternative": finding.safe_alternative,
        "suppressed": finding.suppressed,
    }
    if finding.suppressed:
        entry["suppression_reason"] = finding.suppression_reason or ""
    return entry
