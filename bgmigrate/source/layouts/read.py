"""One migration file → a unit, as its tool runs it: the forward parts only, placeholders
substituted, in the tool's transaction mode; or the reason it is not checked at all."""

from __future__ import annotations

from bisect import bisect_right

from bgmigrate.source.layouts import LAYOUTS, PLAIN
from bgmigrate.source.layouts.base import (
    Forward,
    MigrationFile,
    Skipped,
    SkipReason,
    Transaction,
    whole_file,
)
from bgmigrate.source.layouts.engines import other_engine_by_content
from bgmigrate.source.lines import LineIndex
from bgmigrate.source.patterns import LazyPattern
from bgmigrate.source.reading import SourceText
from bgmigrate.source.sql import read_sql_unit
from bgmigrate.source.tags import TagComment, collect_tags
from bgmigrate.source.templates import substitute_templates
from bgmigrate.source.transactions import cannot_run_in_transaction, transaction_blocks
from bgmigrate.source.unit import Phase, SourceProblem, Statement, Unit, UnitKind
from bgmigrate.values import Value, replace, value

__all__ = ["ReadMigration", "read_migration", "unreadable"]

_NOT_LINE_BREAK = LazyPattern(r"[^\r\n]")


@value
class ReadMigration(Value):
    """A migration's unit (None when the whole file is left out) and the parts left out."""

    unit: Unit | None
    skipped: tuple[Skipped, ...] = ()


def read_migration(
    file: MigrationFile, source: SourceText, path: str, *, assume_in_transaction: bool
) -> ReadMigration:
    """`path` is the file's name as the report shows it."""
    text = source.text
    forward = (
        whole_file(text, file) if file.layout == PLAIN else LAYOUTS[file.layout].forward(text, file)
    )
    lines = LineIndex(text)
    skipped = tuple(
        Skipped(
            path, reason, detail, lines.position(start)[0], lines.position(max(start, end - 1))[0]
        )
        for reason, detail, start, end in forward.skipped
    )
    visible = _forward_text(text, forward)
    engine = other_engine_by_content(visible)
    if engine is not None:
        return ReadMigration(None, (Skipped(path, SkipReason.OTHER_ENGINE, engine),))
    wrapped = _wrapped(forward.transaction, assume_in_transaction)
    # The forward text keeps every line break where it was: its lines are the file's.
    unit = read_sql_unit(path, visible, assume_in_transaction=wrapped, lines=lines)
    if _wrapped_after_all(forward.transaction, [s.sql for s in unit.statements]):
        unit = read_sql_unit(path, visible, assume_in_transaction=True, lines=lines)
    if forward.changes or forward.rendered:
        unit.statements = _by_change(unit.statements, forward, path, lines, wrapped)
    if forward.comments:
        _add_tags(unit, forward.comments, lines)
    unit.problems.extend(
        SourceProblem(rule, message, lines.span(offset, offset))
        for rule, message, offset in forward.problems
    )
    unit.text = text
    if source.problem is not None:
        unit.problems.insert(0, source.problem)
    return ReadMigration(unit, skipped)


def unreadable(source: SourceText, path: str) -> Unit:
    """The unit of a file that could not be read: its one problem and no statements."""
    problems = [source.problem] if source.problem is not None else []
    return Unit(path=path, kind=UnitKind.SQL, phase=Phase.EXPAND, problems=problems)


def _wrapped(transaction: Transaction, assume_in_transaction: bool) -> bool:
    if transaction is Transaction.CONFIGURED:
        return assume_in_transaction
    return transaction is Transaction.WRAPPED


def _wrapped_after_all(transaction: Transaction, sqls: list[str]) -> bool:
    """Whether a mode that depends on the statements wraps these after all."""
    if transaction is Transaction.ONE_QUERY:
        return len(sqls) > 1
    if transaction is Transaction.UNLESS_ALL_NON_TRANSACTIONAL:
        return not all(cannot_run_in_transaction(sql) for sql in sqls)
    return False


def _by_change(
    statements: list[Statement], forward: Forward, path: str, lines: LineIndex, wrapped: bool
) -> list[Statement]:
    """The unit's statements and the rendered ones in file order, each part of the file the
    tool runs apart (`forward.changes`) numbered as its own transaction blocks."""
    located = [(lines.offset(s.location.line, s.location.column), s) for s in statements]
    for sql, start, end in forward.rendered:
        substituted = substitute_templates(sql)
        template = substituted.templates[0][2] if substituted.templates else ""
        rendered = Statement(substituted.text, path, lines.span(start, end), 0, template=template)
        located.append((start, rendered))
    located.sort(key=lambda pair: pair[0])
    starts = [start for start, _, _ in forward.changes]
    groups: list[tuple[int, Transaction, list[Statement]]] = []
    for offset, statement in located:
        at = bisect_right(starts, offset) - 1
        change, mode = -1, forward.transaction
        if at >= 0 and offset < forward.changes[at][1]:
            change, mode = at, forward.changes[at][2]
        if not groups or groups[-1][0] != change:
            groups.append((change, mode, []))
        groups[-1][2].append(statement)
    numbered: list[Statement] = []
    opened = 0
    for _, mode, members in groups:
        sqls = [s.sql for s in members]
        in_transaction = _wrapped(mode, wrapped) or _wrapped_after_all(mode, sqls)
        blocks = transaction_blocks(sqls, assume_in_transaction=in_transaction)
        for statement, block in zip(members, blocks, strict=True):
            shifted = None if block is None else block + opened
            numbered.append(replace(statement, index=len(numbered), transaction=shifted))
        opened += max((b for b in blocks if b is not None), default=0)
    return numbered


def _add_tags(unit: Unit, comments: tuple[tuple[str, int, int], ...], lines: LineIndex) -> None:
    """The tags of comments the SQL reader did not see, added to the unit's own."""
    first = unit.statements[0].location if unit.statements else None
    tags = collect_tags(
        TagComment(
            body,
            lines.span(start, end),
            leading=first is None or lines.offset(first.line, first.column) > start,
        )
        for body, start, end in comments
    )
    if tags.phase is not Phase.EXPAND:
        unit.phase = tags.phase
    unit.suppressions.extend(tags.suppressions)
    unit.problems.extend(tags.problems)


def _forward_text(text: str, forward: Forward) -> str:
    """The text with everything outside the forward ranges blanked, line breaks kept."""
    if forward.ranges == ((0, len(text)),):
        return text
    pieces = []
    position = 0
    for start, end in forward.ranges:
        pieces.append(_NOT_LINE_BREAK.sub(" ", text[position:start]))
        pieces.append(text[start:end])
        position = end
    pieces.append(_NOT_LINE_BREAK.sub(" ", text[position:]))
    return "".join(pieces)
