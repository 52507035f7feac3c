"""`--format text`: each finding for a person at a terminal, then a one-line summary.

A finding reads: `path:line:col  severity  rule`, the message, the offending source lines
with the span highlighted (at most `MAX_SOURCE_LINES` of them), why the rule exists (its
summary) and the safe alternative. Suppressed findings are only counted in the summary.

rich is imported inside `render`, so the other formats do not pay for it. The console is
configured completely (size, colours, terminal) rather than sniffed from the environment,
so the same result always renders to the same text; the caller decides `color`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

__all__ = ["MAX_SOURCE_LINES", "WIDTH", "render"]

WIDTH = 100
MAX_SOURCE_LINES = 8
"""Longer spans show their first lines, an elision line and their last line."""

_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold cyan",
}
_NOUNS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
_PLURALS = {"error": "errors", "warning": "warnings", "info": "info", "unit": "units"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as `source.lines` counts lines


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=WIDTH,
        height=25,  # with both sizes given rich never asks the terminal or $COLUMNS
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=False,
        legacy_windows=False,
        highlight=False,
        markup=False,
        emoji=False,
    )
    units = {unit.path: unit for unit in result.units}
    for finding in result.findings:
        if finding.suppressed:
            continue
        # One line whatever its length: editors and terminals turn `path:line:col` into a link.
        console.print(_header(finding), soft_wrap=True)
        for renderable in _finding(finding, units.get(finding.path), rules.get(finding.rule)):
            console.print(renderable)
        console.print()
    console.print(_summary(result))
    # Padding fills wrapped lines with spaces up to the width; nobody wants them.
    return "\n".join(line.rstrip(" ") for line in buffer.getvalue().split("\n"))


def _header(finding: Finding) -> Text:
    from rich.text import Text

    span = finding.location
    return Text.assemble(
        (f"{finding.path}:{span.line}:{span.column}", "bold"),
        "  ",
        (finding.severity.value, _SEVERITY_STYLE[finding.severity]),
        "  ",
        (finding.rule, "magenta"),
    )


def _finding(
    finding: Finding, unit: CheckedUnit | None, rule: Rule | None
) -> Iterator[RenderableType]:
    from rich.padding import Padding
    from rich.text import Text

    yield Padding(Text(finding.message), (0, 0, 0, 2))
    yield from _excerpt(_rows(finding, unit), _SEVERITY_STYLE[finding.severity])
    if rule is not None:
        yield Padding(Text.assemble(("why: ", "bold"), rule.summary), (0, 0, 0, 2))
    if finding.safe_alternative:
        yield Padding(
            Text.assemble(("safe alternative: ", "bold green"), finding.safe_alternative),
            (0, 0, 0, 2),
        )


@dataclass(frozen=True)
class _Row:
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


def _excerpt(rows: list[_Row], style: str) -> Iterator[Text]:
    from rich.cells import cell_len
    from rich.text import Text

    if not rows:
        return
    width = len(str(rows[-1].number))
    previous = None
    for row in rows:
        if previous is not None and row.number > previous + 1:
            skipped = row.number - previous - 1
            yield Text(f"  {'':>{width}} | ... {skipped} more lines", style="dim")
        previous = row.number
        gutter = f"  {row.number:>{width}} | "
        line = Text.assemble((gutter, "dim"), row.text, no_wrap=True, overflow="ellipsis")
        line.stylize(style, len(gutter) + row.start, len(gutter) + row.end)
        yield line
    if len(rows) == 1:
        row = rows[0]
        indent = cell_len(row.text[: row.start])
        marks = max(1, cell_len(row.text[row.start : row.end]))
        yield Text.assemble((f"  {'':>{width}} | ", "dim"), " " * indent, ("^" * marks, style))


def _summary(result: CheckResult) -> Text:
    from rich.text import Text

    counts = [(result.count(severity), _NOUNS[severity]) for severity in Severity]
    problems = [_counted(count, noun) for count, noun in counts if count]
    units = _counted(len(result.units), "unit")
    line = f"{', '.join(problems)} in {units}" if problems else f"No problems in {units}"
    if result.suppressed:
        line += f" ({result.suppressed} suppressed)"
    if result.count(Severity.ERROR):
        style = "bold red"
    elif problems:
        style = "bold yellow"
    else:
        style = "bold green"
    return Text(line, style=style)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else _PLURALS[noun]}"
