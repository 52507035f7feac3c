"""`--format json`: the machine-readable result, exactly as `cli.md` specifies it.

One addition to the contract's example: a suppressed finding also carries
`suppression_reason` (the reason written in its `ignore` tag, "" when none was given), so
that an audit of suppressions needs no second tool. The key is present exactly when
`suppressed` is true; `check-result.schema.json` beside this module describes the whole
document. Non-ASCII text is escaped, so the output is safe on any console encoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring_ascii as _quoted  # json.dumps' own C escaper

from bgmigrate import __version__
from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.stream import ReportWriter, Sink, Spool, render_result
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SCHEMA_VERSION", "Writer", "document", "finding_entry", "finding_line", "render"]

SCHEMA_VERSION = 1


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    return render_result(Writer, result, rules, color=color)


class Writer(ReportWriter):
    """The document with one unit or finding per line: readable, greppable, and encoded by
    json's C encoder (an `indent` would switch to the pure-Python one, 3× slower).

    The units come before the findings in the document, and a run hands both over as it
    goes: the units are written as they come, the findings' entries kept in a spool until
    the units are all written."""

    def __init__(self, out: Sink, rules: Mapping[str, Rule], **run: Any) -> None:
        super().__init__(out, rules, **run)
        self._findings_spool = Spool()
        head = {
            "version": SCHEMA_VERSION,
            "tool": {"name": "bgmigrate", "version": __version__},
            "settings": {"pg_version": self.pg_version},
        }
        out.write(
            "{\n  " + ",\n  ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
        )
        out.write(',\n  "units": ')
        self._units = self._findings_listed = 0

    def _unit(self, unit: CheckedUnit) -> None:
        self.out.write(_listed([_unit_line(unit)], self._units))
        self._units += 1

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        self._findings_spool.write(_listed(map(finding_line, findings), self._findings_listed))
        self._findings_listed += len(findings)

    def finish(self, skipped: Sequence[Skipped]) -> None:
        out = self.out
        out.write(_closed(self._units))
        out.write(',\n  "findings": ')
        self._findings_spool.close_into(out)
        out.write(_closed(self._findings_listed))
        layouts = [{"path": path, "layout": layout} for path, layout in self.layouts]
        out.write(f',\n  "layouts": {json.dumps(layouts)},\n  "skipped": ')
        entries = (json.dumps(_skipped(entry)) for entry in skipped)
        out.write(_listed(entries, 0) + _closed(len(skipped)))
        tally = self.tally
        summary = {
            **{severity.value: tally.count(severity) for severity in Severity},
            "suppressed": tally.suppressed,
            "units": tally.units,
        }
        out.write(f',\n  "summary": {json.dumps(summary)}\n}}\n')


def _listed(entries: Iterable[str], before: int) -> str:
    """Entries of a list (each encoded) written one per line, after `before` entries of it."""
    pieces = []
    for entry in entries:
        pieces.append(",\n    " if before else "[\n    ")
        pieces.append(entry)
        before += 1
    return "".join(pieces)


def _closed(entries: int) -> str:
    """The end of a list of `entries` written one per line."""
    return "\n  ]" if entries else "[]"


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


def _unit_line(unit: CheckedUnit) -> str:
    """`json.dumps(_unit(unit))`, written from its pieces (see `finding_line`)."""
    return (
        f'{{"path": {_quoted(unit.path)}, "kind": {_quoted(unit.kind.value)}, '
        f'"phase": {_quoted(unit.phase.value)}, "statements": {unit.statements:d}}}'
    )


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


def finding_line(finding: Finding) -> str:
    """`json.dumps(finding_entry(finding))`, written from its pieces: the same text, at a
    third of the cost (a report of thousands of findings spent a tenth of the run in
    `json.dumps`, building an encoder and walking a dict per finding)."""
    location = finding.location
    line = (
        f'{{"rule": {_quoted(finding.rule)}, "category": {_quoted(finding.category.value)}, '
        f'"severity": {_quoted(finding.severity.value)}, "path": {_quoted(finding.path)}, '
        f'"line": {location.line:d}, "column": {location.column:d}, '
        f'"end_line": {location.end_line:d}, "end_column": {location.end_column:d}, '
        f'"statement": {_quoted(finding.statement)}, "message": {_quoted(finding.message)}, '
        f'"safe_alternative": {_quoted(finding.safe_alternative)}, "suppressed": '
    )
    if finding.suppressed:
        reason = _quoted(finding.suppression_reason or "")
        return f'{line}true, "suppression_reason": {reason}}}'
    return f"{line}false}}"
