"""Terminal layout for the text report: cell widths, word wrapping and ANSI styles.

The text report is what a pre-commit hook prints on every commit, and importing rich's console
costs about a fifth of checking one file, so the little layout it needs is done here, the way
rich does it: widths count terminal cells (a CJK character takes two), prose wraps between
words and folds a word longer than a line, a line that must not wrap is cut with an ellipsis,
and styles become SGR escape codes only when colour is on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from itertools import pairwise

from bgmigrate.values import Value, field, value

__all__ = ["StyledText", "cell_width"]

_SGR = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
}
_WORD = re.compile(r"\s*\S+\s*")  # a word with the spaces around it, as rich divides lines


def _cells(character: str) -> int:
    if character.isascii():
        return 1 if character.isprintable() else 0
    if unicodedata.combining(character) or unicodedata.category(character) in ("Cc", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """How many terminal cells `text` takes."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(map(_cells, text))


def _cut(text: str, cells: int) -> str:
    """The longest start of `text` that fits in `cells`."""
    used = 0
    for index, character in enumerate(text):
        used += _cells(character)
        if used > cells:
            return text[:index]
    return text


@value
class StyledText(Value):
    """Plain text with styles ("bold red", "dim") on character ranges, laid out on demand."""

    plain: str = ""
    spans: list[tuple[int, int, str]] = field(default_factory=list)

    def append(self, text: str, style: str | None = None) -> StyledText:
        if style:
            self.spans.append((len(self.plain), len(self.plain) + len(text), style))
        self.plain += text
        return self

    def stylize(self, style: str, start: int, end: int) -> None:
        self.spans.append((start, min(end, len(self.plain)), style))

    def render(self, *, color: bool, start: int = 0, end: int | None = None) -> str:
        """Characters start..end, with escape codes for their styles when `color` is on."""
        end = len(self.plain) if end is None else end
        if not color:
            return self.plain[start:end]
        inner = {p for s, e, _ in self.spans for p in (s, e) if start < p < end}
        pieces = []
        for piece_start, piece_end in pairwise(sorted({start, end} | inner)):
            styles = [style for s, e, style in self.spans if s <= piece_start and piece_end <= e]
            text = self.plain[piece_start:piece_end]
            pieces.append(_sgr(" ".join(styles), text) if styles else text)
        return "".join(pieces)

    def lines(self, width: int, *, color: bool, indent: str = "") -> list[str]:
        """The text in `width` cells after `indent`, one string per line: its own line breaks
        kept, then broken between words."""
        lines, offset = [], 0
        for line in self.plain.split("\n"):
            for start, end in _divide(line, width - cell_width(indent)):
                end = start + len(line[start:end].rstrip(" "))
                text = self.render(color=color, start=offset + start, end=offset + end)
                lines.append((indent + text).rstrip(" "))
            offset += len(line) + 1
        return lines

    def line(self, width: int, *, color: bool) -> str:
        """The text on one line, cut with an ellipsis when it is wider than `width` cells."""
        if cell_width(self.plain) <= width:
            return self.render(color=color).rstrip(" ")
        kept = _cut(self.plain, width - 1)
        padding = " " * (width - 1 - cell_width(kept))
        return self.render(color=color, end=len(kept)) + padding + "…"


def _sgr(style: str, text: str) -> str:
    codes = ";".join(_SGR[word] for word in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"


def _divide(line: str, width: int) -> Iterator[tuple[int, int]]:
    """Ranges of `line` that fit in `width` cells, broken before a word that does not fit;
    a word wider than `width` is folded."""
    if not line:
        yield 0, 0
        return
    line_start, used = 0, 0
    for word in _WORD.finditer(line):
        start = word.start()
        size = cell_width(word.group().rstrip())
        if used + size <= width:
            used += cell_width(word.group())
            continue
        if used and start:
            yield line_start, start
            line_start, used = start, 0
        if size <= width:
            used = cell_width(word.group())
            continue
        # The spaces after a folded word are part of it, as rich folds: when its last piece
        # fills the line exactly, they start the next one.
        while cell_width(line[line_start : word.end()]) > width:
            piece = _cut(line[line_start:], width)
            yield line_start, line_start + len(piece)
            line_start += len(piece)
        used = cell_width(line[line_start : word.end()])
    yield line_start, len(line)
