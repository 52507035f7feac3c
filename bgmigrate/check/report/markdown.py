"""`--format markdown`: a pull-request comment or a `$GITHUB_STEP_SUMMARY` body.

A heading with the run's summary, then the findings grouped by file, each with its line,
severity, rule, message and safe alternative. GitHub refuses a comment longer than
`LIMIT` characters (and a step summary above 1 MiB): on a large change the findings that
do not fit are summarised in one closing line per file instead, so the comment always
posts and the job log (or `--format text`) has the rest. Suppressed findings are counted,
not listed.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from bgmigrate import __version__
from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.report.paths import repository_path
from bgmigrate.check.report.stream import ReportWriter, Sink, render_result
from bgmigrate.check.report.summary import counted, summary_line
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped

__all__ = ["LIMIT", "Writer", "render"]

LIMIT = 65_536
"""GitHub's limit on an issue or pull-request comment's body, in characters."""
_RESERVED = 4_000
"""Kept free for the closing lines that say what did not fit."""
_MARK = {Severity.ERROR: "🛑", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def render(result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str:
    return render_result(Writer, result, rules, color=color)


class Writer(ReportWriter):
    """The heading holds the run's summary and decides how much of the body fits, so the body
    is written at the end. What could fit is kept meanwhile (at most `LIMIT` characters, one
    file's findings at a time, grouped as they come); the rest is only counted."""

    def __init__(self, out: Sink, rules: Mapping[str, Rule], **run: Any) -> None:
        super().__init__(out, rules, **run)
        self._footer = f"<sub>bgmigrate {__version__}, PostgreSQL {self.pg_version}</sub>\n"
        self._sections: list[tuple[str, str, int]] = []
        """(path, section, findings) of the files that fit with the shortest heading."""
        self._size = 0
        self._left_out: dict[str, int] = {}
        self._path: str | None = None
        self._group: list[Finding] = []

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        for finding in findings:
            if finding.suppressed:
                continue
            path = repository_path(finding.path)
            if path != self._path:
                self._close_group()
                self._path = path
            self._group.append(finding)

    def _close_group(self) -> None:
        if self._path is None:
            return
        path, findings = self._path, self._group
        self._path, self._group = None, []
        if not self._left_out:
            section = f"### `{path}`\n\n" + "".join(map(_item, findings))
            if self._size + len(section) + len(self._footer) <= LIMIT - _RESERVED:
                self._sections.append((path, section, len(findings)))
                self._size += len(section)
                return
        self._left_out[path] = len(findings)

    def finish(self, skipped: Sequence[Skipped]) -> None:
        self._close_group()
        head = f"## bgmigrate: {summary_line(self.tally)}\n\n"
        body = ""
        left_out: dict[str, int] = {}
        # The sections that fit with this heading, as if each were decided as it came.
        for path, section, count in self._sections:
            fits = len(head) + len(body) + len(section) + len(self._footer) <= LIMIT - _RESERVED
            if fits and not left_out:
                body += section
            else:
                left_out[path] = count
        for path, count in self._left_out.items():
            left_out[path] = count
        if left_out:
            body += _left_out(left_out, room=LIMIT - len(head) - len(body) - len(self._footer))
        self.out.write(head + body + self._footer)


def _item(finding: Finding) -> str:
    item = (
        f"- {_MARK[finding.severity]} **{finding.severity.value}** `{finding.rule}`, "
        f"line {finding.location.line}: {_escaped(finding.message)}\n"
    )
    advice = finding.safe_alternative.strip()
    if not advice:
        return item + "\n"
    if "\n" not in advice:
        return item + f"\n  **Safe alternative:** {_escaped(advice)}\n\n"
    # SQL with comments, as the rules write it: a code block keeps its lines.
    code = "".join(f"  {line}\n" for line in advice.splitlines())
    return item + f"\n  **Safe alternative:**\n\n  ```sql\n{code}  ```\n\n"


def _escaped(text: str) -> str:
    """Prose as one list item's line: `<` and `&` escaped outside code spans (where GitHub
    would take `<value>` for a tag, and inside which it would show `&lt;` as written)."""
    pieces = " ".join(text.split()).split("`")
    return "`".join(
        piece if inside_code else html.escape(piece, quote=False)
        for piece, inside_code in zip(pieces, itertools.cycle((False, True)))
    )


def _left_out(left_out: dict[str, int], room: int) -> str:
    """What did not fit: a count, then one line per file, as many as fit in `room`."""
    total = sum(left_out.values())
    text = (
        f"**{counted(total, 'more finding')} in {counted(len(left_out), 'more file')} not "
        f"shown** (a comment holds {LIMIT:,} characters): the job's log, or "
        "`bgmigrate check --format text`, lists them all.\n\n"
    )
    for listed, (path, count) in enumerate(left_out.items()):
        line = f"- `{path}`: {counted(count, 'finding')}\n"
        if len(text) + len(line) > room - 100:
            return text + f"- … and {counted(len(left_out) - listed, 'more file')}\n\n"
        text += line
    return text + "\n"
