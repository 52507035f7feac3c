"""`--format text`: each finding for a person at a terminal, then a one-line summary.

A finding reads: `path:line:col  severity  rule`, the message, the offending source lines
with the span highlighted (at most `MAX_SOURCE_LINES` of them), why the rule exists (its
summary) and the safe alternative. Suppressed findings are only counted in the summary.

The layout is fixed (WIDTH cells, colour only when the caller says so) rather than sniffed
from the environment, so the same result always renders to the same text. It is laid out by
`report.layout` rather than rich: this is what a pre-commit hook prints on every commit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.layout import StyledText, cell_width
from bgmigrate.check.report.stream import ReportWriter, Tally, render_result
from bgmigrate.check.report.summary import summary_line
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped, SkipReason
from bgmigrate.values import Value, frozen_value

__all__ = ["MAX_SOURCE_LINES", "WIDTH", "Writer", "render"]

WIDTH = 100
MAX_SOURCE_LINES = 8
"""Longer spans show their first lines, an elision line and their last line."""

_INDENT = "  "
_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold cyan",
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as `source.lines` counts lines


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    return render_result(Writer, result, rules, color=color)


class Writer(ReportWriter):
    """Each unsuppressed finding as it comes, then how the paths were read and the summary."""

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        color = self.color
        for finding in findings:
            if finding.suppressed:
                continue
            # One line whatever its length: editors and terminals turn `path:line:col` into
            # a link.
            lines = [_header(finding).render(color=color)]
            lines.extend(_finding(finding, unit, self.rules.get(finding.rule), color))
            self.out.write("\n".join(lines) + "\n\n")

    def finish(self, skipped: Sequence[Skipped]) -> None:
        lines: list[str] = []
        for line in _reading(self.layouts, skipped):
            lines.extend(StyledText().append(line).lines(WIDTH, color=self.color))
        lines.extend(_summary(self.tally).lines(WIDTH, color=self.color))
        self.out.write("\n".join(lines) + "\n")


def _header(finding: Finding) -> StyledText:
    span = finding.location
    return (
        StyledText()
        .append(f"{finding.path}:{span.line}:{span.column}", "bold")
        .append("  ")
        .append(finding.severity.value, _SEVERITY_STYLE[finding.severity])
        .append("  ")
        .append(finding.rule, "magenta")
    )


def _finding(
    finding: Finding, unit: CheckedUnit | None, rule: Rule | None, color: bool
) -> Iterator[str]:
    yield from StyledText(finding.message).lines(WIDTH, indent=_INDENT, color=color)
    yield from _excerpt(_rows(finding, unit), _SEVERITY_STYLE[finding.severity], color)
    if rule is not None:
        why = StyledText().append("why: ", "bold").append(rule.summary)
        yield from why.lines(WIDTH, indent=_INDENT, color=color)
    if finding.safe_alternative:
        advice = StyledText().append("safe alternative: ", "bold green")
        advice.append(finding.safe_alternative)
        yield from advice.lines(WIDTH, indent=_INDENT, color=color)


@frozen_value
class _Row(Value):
    """One source line to show; `start`/`end` bound the flagged part (0-based, end excl.)."""

    number: int
    text: str
    start: int
    end: int


def _rows(finding: Finding, unit: CheckedUnit | None) -> list[_Row]:
    span = finding.location
    file_lines = _LINE_BREAK.split(unit.text) if unit is not None and unit.text else []
    if span.end_line <= len(file_lines):
        shown = enumerate(file_lines[span.line - 1 : span.end_line], start=span.line)
        rows = [
            _Row(
                number,
                _displayable(line),
                span.column - 1 if number == span.line else 0,
                span.end_column if number == span.end_line else len(line),
            )
            for number, line in shown
        ]
    elif finding.statement.strip():
        # Without the file's text (stdin, a test's hand-made unit) the statement stands in.
        shown = enumerate(_LINE_BREAK.split(finding.statement), start=span.line)
        rows = [_Row(number, _displayable(line), 0, len(line)) for number, line in shown]
    else:
        return []
    if len(rows) > MAX_SOURCE_LINES:
        return [*rows[: MAX_SOURCE_LINES - 2], *rows[-1:]]
    return rows


def _displayable(line: str) -> str:
    # One space per tab keeps every character in its column, so the carets line up.
    return line.replace("\t", " ")


def _excerpt(rows: list[_Row], style: str, color: bool) -> Iterator[str]:
    if not rows:
        return
    width = len(str(rows[-1].number))
    previous = None
    for row in rows:
        if previous is not None and row.number > previous + 1:
            skipped = row.number - previous - 1
            elision = StyledText().append(f"  {'':>{width}} | ... {skipped} more lines", "dim")
            yield elision.line(WIDTH, color=color)
        previous = row.number
        gutter = f"  {row.number:>{width}} | "
        line = StyledText().append(gutter, "dim").append(row.text)
        line.stylize(style, len(gutter) + row.start, len(gutter) + row.end)
        yield line.line(WIDTH, color=color)
    if len(rows) == 1:
        row = rows[0]
        indent = cell_width(row.text[: row.start])
        marks = max(1, cell_width(row.text[row.start : row.end]))
        carets = StyledText().append(f"  {'':>{width}} | ", "dim").append(" " * indent)
        yield carets.append("^" * marks, style).line(WIDTH, color=color)


def _reading(layouts: Sequence[tuple[str, str]], skipped: Sequence[Skipped]) -> Iterator[str]:
    """How the paths were read: each migration tool's layout, and what it left out."""
    if layouts:
        read = "; ".join(f"{path or '.'} as {layout}" for path, layout in layouts)
        yield f"Read {read}"
    if skipped:
        counts = Counter(entry.reason for entry in skipped)
        yield (
            ", ".join(reason.counted(counts[reason]) for reason in SkipReason if counts[reason])
            + ": not checked"
        )


def _summary(tally: Tally) -> StyledText:
    if tally.count(Severity.ERROR):
        style = "bold red"
    elif tally.unsuppressed:
        style = "bold yellow"
    else:
        style = "bold green"
    return StyledText().append(summary_line(tally), style)
