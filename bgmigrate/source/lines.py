"""Offsets in a text → 1-based line and column `Location`s."""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from bgmigrate.source.unit import Location

__all__ = ["LineIndex"]

# The line breaks editors, SARIF and Python's tokenizer agree on.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Where each line of a text starts, to turn character offsets into locations.

    Columns count characters (code points), not bytes.
    """

    def __init__(self, text: str) -> None:
        if "\r" in text:
            self._starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
        else:
            # The common case, at C speed: each line's length plus its "\n".
            lengths = map(len, text.split("\n"))
            self._starts = [0, *accumulate(length + 1 for length in lengths)][:-1]

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of the character at `offset`."""
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    @property
    def count(self) -> int:
        """How many lines the text has."""
        return len(self._starts)

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based (line, column)."""
        return self._starts[line - 1] + column - 1

    def span(self, start: int, end: int) -> Location:
        """The location of `text[start:end]` (end exclusive; an empty span is its start)."""
        starts = self._starts
        line = bisect_right(starts, start)
        last = end - 1 if end > start else start
        end_line = bisect_right(starts, last, line - 1)
        column = start - starts[line - 1] + 1
        return Location(line, column, end_line, last - starts[end_line - 1] + 1)
