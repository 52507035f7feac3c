"""A trace as JSON (the stable contract) or as a rich per-statement table."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from bgmigrate.check.report.json_report import finding_entry
from bgmigrate.trace.model import StatementTrace, TraceResult

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["FORMATS", "render_json", "render_text"]


def render_json(result: TraceResult, *, color: bool = False) -> str:
    document = {
        "findings": [finding_entry(finding) for finding in result.findings],
        "statements": [_statement(trace) for trace in result.statements],
    }
    return json.dumps(document, indent=2) + "\n"


def _statement(trace: StatementTrace) -> dict[str, Any]:
    return {
        "path": trace.path,
        "line": trace.line,
        "sql": trace.sql,
        "locks": [{"relation": lock.relation, "mode": lock.mode} for lock in trace.locks],
        "rewritten": list(trace.rewritten),
        "scanned": list(trace.scanned),
        "duration_ms": round(trace.duration_ms, 3),
        "error": trace.error,
    }


_BLOCK_STYLE = {"reads and writes": "bold red", "writes": "yellow", "": ""}


def render_text(result: TraceResult, *, color: bool = False) -> str:
    """A table per migration file, one row per statement: the locks on existing relations
    that block the app's reads or writes (highlighted, with what they block), rewrites, full
    scans, time, error; then the findings."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=color, no_color=not color)
    paths = list(dict.fromkeys(trace.path for trace in result.statements))
    for path in paths:
        console.print(_table(path, [t for t in result.statements if t.path == path]))
    for finding in result.findings:
        console.print(
            f"{finding.path}:{finding.location.line}  [bold red]{finding.severity.value}  "
            f"{finding.rule}[/]",
            highlight=False,
        )
        console.print(f"  {finding.message}", markup=False, highlight=False)
        console.print(f"  instead: {finding.safe_alternative}", markup=False, highlight=False)
    failed = sum(trace.error is not None for trace in result.statements)
    console.print(
        f"{len(result.statements)} statements traced, {failed} failed, "
        f"{len(result.findings)} findings",
        markup=False,
        highlight=False,
    )
    return buffer.getvalue()


def _table(path: str, traces: list[StatementTrace]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=path, title_justify="left", show_lines=True, expand=True)
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("statement", ratio=3, overflow="fold")
    table.add_column("locks on existing relations", ratio=3, overflow="fold")
    table.add_column("rewritten", ratio=2, overflow="fold")
    table.add_column("scanned", ratio=2, overflow="fold")
    table.add_column("ms", justify="right", no_wrap=True)
    for trace in traces:
        locks = Text()
        blocking = [lock for lock in trace.locks if lock.blocks]
        for lock in blocking:
            locks.append(f"{lock.mode} on {lock.relation}\n", style=_BLOCK_STYLE[lock.blocks])
            locks.append(f"  blocks {lock.blocks}\n", style=_BLOCK_STYLE[lock.blocks])
        weaker = len(trace.locks) - len(blocking)
        if weaker:
            locks.append(f"{weaker} lock(s) that block neither reads nor writes", style="dim")
        statement = Text(_shortened(trace.sql))
        if trace.error is not None:
            statement.append(f"\nfailed: {trace.error}", style="bold red")
        table.add_row(
            str(trace.line),
            statement,
            locks.rstrip() or locks,
            "\n".join(trace.rewritten),
            "\n".join(trace.scanned),
            f"{trace.duration_ms:.1f}",
        )
    return table


def _shortened(sql: str, limit: int = 200) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


FORMATS = {"text": render_text, "json": render_json}
