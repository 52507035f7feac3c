"""The one-line summary of a run that the text and Markdown reports end or start with."""

from __future__ import annotations

from bgmigrate.check.finding import Severity
from bgmigrate.check.report.stream import Tally

__all__ = ["counted", "summary_line"]

_NOUNS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
_PLURALS = {"error": "errors", "warning": "warnings", "info": "info", "unit": "units"}


def summary_line(tally: Tally) -> str:
    """`2 errors, 1 warning in 3 units (1 suppressed)`, or `No problems in 3 units`."""
    counts = [(tally.count(severity), _NOUNS[severity]) for severity in Severity]
    problems = [counted(count, noun) for count, noun in counts if count]
    units = counted(tally.units, "unit")
    line = f"{', '.join(problems)} in {units}" if problems else f"No problems in {units}"
    if tally.suppressed:
        line += f" ({tally.suppressed} suppressed)"
    return line


def counted(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else _PLURALS.get(noun, noun + 's')}"
