"""One migration file → a unit, as its tool runs it: the forward parts only, placeholders
substituted, in the tool's transaction mode; or the reason it is not checked at all."""

from __future__ import annotations

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
from bgmigrate.source.transactions import cannot_run_in_transaction
from bgmigrate.source.unit import Phase, Unit, UnitKind
from bgmigrate.values import Value, value

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
    unit = read_sql_unit(path, visible, assume_in_transaction=wrapped)
    if _wrapped_after_all(forward.transaction, unit):
        unit = read_sql_unit(path, visible, assume_in_transaction=True)
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


def _wrapped_after_all(transaction: Transaction, unit: Unit) -> bool:
    """Whether a mode that depends on the statements wraps this unit after all."""
    if transaction is Transaction.ONE_QUERY:
        return len(unit.statements) > 1
    if transaction is Transaction.UNLESS_ALL_NON_TRANSACTIONAL:
        return not all(cannot_run_in_transaction(s.sql) for s in unit.statements)
    return False


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
