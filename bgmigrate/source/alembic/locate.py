"""Which `op.…` call in a revision file is running: from the interpreter's stack to a Location."""

from __future__ import annotations

import ast
import functools
import sys
from types import CodeType, FrameType

from bgmigrate.source.alembic.revision import RevisionFile
from bgmigrate.source.unit import Location

__all__ = ["CallLocator"]

_Span = tuple[int, int, int, int]
"""(line, byte column, end line, end byte column) as `ast` and `co_positions` give them."""


class CallLocator:
    """Maps frames running a revision file's code to the span of the call they are executing."""

    def __init__(self, revision: RevisionFile) -> None:
        self.filename = str(revision.file)
        self._lines = revision.text.splitlines()
        self._tree = revision.tree
        self._positions: dict[CodeType, list[tuple[int | None, ...]]] = {}

    @functools.cached_property
    def _calls(self) -> list[_Span]:
        """Every call's span; walked on the first running frame to map, which a revision
        rendered statically never has."""
        return [
            (node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0)
            for node in ast.walk(self._tree)
            if isinstance(node, ast.Call)
        ]

    def frame_in_file(self, frame: FrameType | None) -> FrameType | None:
        """The innermost frame, from `frame` outwards, that runs code of the revision file."""
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back
        return frame

    def current(self) -> Location | None:
        """The call of the revision file the running code was reached from, if any."""
        frame = self.frame_in_file(sys._getframe(1))
        return self.of_frame(frame) if frame is not None else None

    def of_frame(self, frame: FrameType) -> Location:
        return self._location(frame.f_code, frame.f_lasti, frame.f_lineno)

    def of_traceback(self, error: BaseException) -> Location:
        """The call in the revision file where `error` passed last, else line 1."""
        traceback = error.__traceback__
        found = None
        while traceback is not None:
            if traceback.tb_frame.f_code.co_filename == self.filename:
                found = traceback
            traceback = traceback.tb_next
        if found is None:
            return self._line(1)
        return self._location(found.tb_frame.f_code, found.tb_lasti, found.tb_lineno)

    def of_call(self, call: ast.Call) -> Location:
        """The location of the statements `call` runs: its whole span, as the running call's
        instruction positions give it on Python 3.11+."""
        end_line = call.end_lineno or call.lineno
        return self._to_location((call.lineno, call.col_offset, end_line, call.end_col_offset or 0))

    def _location(self, code: CodeType, lasti: int, lineno: int | None) -> Location:
        span = self._instruction_span(code, lasti)
        call = self._call_at(span) if span is not None else self._call_on_line(lineno or 1)
        return self._to_location(call) if call is not None else self._line(lineno or 1)

    def _instruction_span(self, code: CodeType, lasti: int) -> _Span | None:
        """The source span of the instruction at byte offset `lasti`, on Python 3.11+."""
        positions = self._positions.get(code)
        if positions is None:
            read = getattr(code, "co_positions", None)
            # Listed once per code object: a squashed history's `upgrade()` has 90,000 code
            # units, each call of which would otherwise walk them again.
            positions = self._positions[code] = list(read()) if read is not None else []
        if not 0 <= lasti // 2 < len(positions):  # one position per two-byte code unit
            return None
        line, end_line, column, end_column = positions[lasti // 2]
        if line is None or end_line is None or column is None or end_column is None:
            return None
        return (line, column, end_line, end_column)

    def _call_at(self, span: _Span) -> _Span | None:
        """The call the instruction belongs to: the one with the instruction's exact span (the
        CALL of `op.add_column(…)` spans the whole expression), else the innermost call that
        contains the instruction."""
        if span in self._calls:
            return span
        containing = [call for call in self._calls if _contains(call, span)]
        return min(containing, key=_size, default=None)

    def _call_on_line(self, line: int) -> _Span | None:
        """Without instruction positions (Python 3.10): the outermost call starting on the line."""
        starting = [call for call in self._calls if call[0] == line]
        return max(starting, key=_size, default=None)

    def _to_location(self, span: _Span) -> Location:
        line, column, end_line, end_column = span
        return Location(
            line, self._chars(line, column) + 1, end_line, max(self._chars(end_line, end_column), 1)
        )

    def _line(self, line: int) -> Location:
        """A whole line, from its first non-blank character."""
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        stripped = text.strip()
        first = len(text) - len(text.lstrip()) + 1
        return Location(line, first, line, first + max(len(stripped), 1) - 1)

    def _chars(self, line: int, byte_column: int) -> int:
        """Columns from `ast` count UTF-8 bytes; locations count characters."""
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


def _contains(outer: _Span, inner: _Span) -> bool:
    return (outer[0], outer[1]) <= (inner[0], inner[1]) and (inner[2], inner[3]) <= (
        outer[2],
        outer[3],
    )


def _size(span: _Span) -> tuple[int, int]:
    return (span[2] - span[0], span[3] - span[1])
