"""Where things are in a statement's text: tokens, spans, and file coordinates.

The parser's tree says what a statement does but not where each part of it is written: an
`ALTER TABLE` action or a default expression has no end position. The PostgreSQL scanner's
tokens (which already understand quotes, dollar quotes and comments) give those spans, and this
module turns a span of the statement into a `Location` in the file the user edits.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from bgmigrate.parse.libpg_query import byte_to_char_table, scan
from bgmigrate.source.lines import LineIndex
from bgmigrate.source.sql import IDENTIFIER_CHARACTER, SPACE
from bgmigrate.source.unit import Location, Statement

__all__ = ["StatementText"]

_OPENING = frozenset({"ASCII_40", "ASCII_91"})  # ( [
_CLOSING = frozenset({"ASCII_41", "ASCII_93"})  # ) ]
_COMMA = "ASCII_44"
_SEMICOLON = "ASCII_59"
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_ELEMENT_ENDS = frozenset({_COMMA, _SEMICOLON})
_PLAIN_LEXEME = re.compile(
    r"""'[^'\\]*(?:''[^'\\]*)*'"""  # a string, without backslashes
    r'|"[^"]*(?:""[^"]*)*"'  # a quoted identifier
    r"""|[()\[\],;'"$\\]|--|/\*"""
)
"""In text made of words, numbers, operators and brackets, what `plain_element_rest` looks
at: a whole string (without backslashes) or quoted identifier, a bracket, a comma or
semicolon; or what makes the text other than plain (a lone quote, `$`, a backslash, a
comment), which the scanner must read."""
# Files whose statements are rendered from something else (an Alembic `op.…` call, a Liquibase
# change element): a span of the SQL is reported at the statement's own place.
_RENDERED_FROM = (".py", ".xml", ".yaml", ".yml", ".json")


class StatementText:
    """One statement's text, with the scanner's tokens computed on first use.

    Offsets are character indexes into `statement.sql`. Locations map onto the file only when
    the statement's text is the file's text: an Alembic revision's SQL is rendered from a
    `.py` file (a Liquibase changelog's from XML or YAML), so every span of it is reported at
    the statement's own location (the `op.…` call, the change element).
    """

    # Lazy attributes are plain ones: functools.cached_property takes a lock on every first
    # access (Python < 3.12), which costs more than parsing a short statement.
    __slots__ = (
        "_base",
        "_byte_to_char",
        "_is_file_text",
        "_lines",
        "_tokens",
        "sql",
        "statement",
    )

    def __init__(self, statement: Statement, *, verbatim: bool = True, base: int = 0) -> None:
        """`verbatim` False: the text is not written in the file as it is (dynamic SQL that a
        DO block runs), so every span of it is reported at the statement's location. `base`:
        the byte offset of the statement in the text its parse tree was read from, which its
        locations count from (`parse_statements`)."""
        self.statement = statement
        self.sql = statement.sql
        self._base = base
        self._is_file_text = verbatim and not statement.path.endswith(_RENDERED_FROM)
        self._byte_to_char: list[int] | None = None
        self._tokens: tuple[list[int], list[int], list[str]] | None = None
        self._lines: LineIndex | None = None

    # -- offsets ---------------------------------------------------------------------------

    def char_offset(self, byte_offset: int) -> int:
        """The character index of a parse tree location (a byte offset in the UTF-8 text the
        tree was read from)."""
        byte_offset -= self._base
        if self.sql.isascii():
            return byte_offset
        if self._byte_to_char is None:
            self._byte_to_char = byte_to_char_table(self.sql)
        return self._byte_to_char[min(byte_offset, len(self._byte_to_char) - 1)]

    # -- tokens ----------------------------------------------------------------------------

    def _scan(self) -> tuple[list[int], list[int], list[str]]:
        if self._tokens is None:
            starts, ends, names = scan(self.sql)
            if not _COMMENTS.isdisjoint(names):
                kept = [index for index, name in enumerate(names) if name not in _COMMENTS]
                starts = [starts[index] for index in kept]
                ends = [ends[index] for index in kept]
                names = [names[index] for index in kept]
            while names and names[-1] == _SEMICOLON:
                del starts[-1], ends[-1], names[-1]
            self._tokens = starts, ends, names
        return self._tokens

    @property
    def names(self) -> Sequence[str]:
        """The names of the statement's tokens, without comments and without a trailing
        semicolon; the other methods index tokens in this list."""
        return self._scan()[2]

    def token_at(self, offset: int) -> int:
        """The index of the token that contains character `offset` (or the last one before)."""
        return max(bisect_right(self._scan()[0], offset) - 1, 0)

    def find(self, name: str, first: int, last: int) -> int | None:
        """The first token named `name` at nesting depth 0 within tokens first..last."""
        names, depth = self.names, 0
        for index in range(first, last + 1):
            token = names[index]
            if depth == 0 and token == name:
                return index
            depth += (token in _OPENING) - (token in _CLOSING)
        return None

    def find_in_statement(self, name: str, first: int) -> int | None:
        """`find(name, first, statement_end(first))` in one pass: the first token named
        `name` at nesting depth 0 from token `first`, before the semicolon that ends the
        statement. (Each column default looks for its keyword: bounding the search by the
        statement's end first walked the rest of the statement once per column.)"""
        names, depth = self.names, 0
        for index in range(first, len(names)):
            token = names[index]
            if depth == 0:
                if token == name:
                    return index
                if token == _SEMICOLON:
                    return None
            depth += (token in _OPENING) - (token in _CLOSING)
        return None

    def matching_close(self, opening: int) -> int:
        """The index of the bracket that closes the one at `opening` (or the last token)."""
        names, depth = self.names, 0
        for index in range(opening, len(names)):
            token = names[index]
            depth += (token in _OPENING) - (token in _CLOSING)
            if depth == 0:
                return index
        return len(names) - 1

    def element_end(self, first: int) -> int:
        """The last token of the list element starting at `first`: before the next comma at
        its own level, the bracket that closes the enclosing list, or the semicolon that
        ends the statement (when the text holds several)."""
        names, depth = self.names, 0
        for index in range(first, len(names)):
            token = names[index]
            if depth == 0 and (token in _ELEMENT_ENDS or token in _CLOSING):
                return index - 1
            depth += (token in _OPENING) - (token in _CLOSING)
        return len(names) - 1

    def elements(self, first: int) -> list[tuple[int, int]]:
        """The (first, last) tokens of each element of the comma-separated list that starts
        at token `first`."""
        spans: list[tuple[int, int]] = []
        start = first
        names = self.names
        while start < len(names):
            end = self.element_end(start)
            spans.append((start, end))
            if end + 1 >= len(names) or names[end + 1] != _COMMA:
                break
            start = end + 2
        return spans

    def statement_end(self, first: int) -> int:
        """The last token of the statement that token `first` belongs to."""
        last = len(self.names) - 1
        found = self.find(_SEMICOLON, first, last)
        return last if found is None else found - 1

    def plain_element_rest(self, keyword: str, start: int, stop: int | None) -> str | None:
        """The text after the keyword at character `start` (`keyword` in upper case) up to
        the end of the list element it stands in (a comma or closing bracket at its own
        depth, a semicolon, the end of the text) or character `stop`, whichever comes first:
        `text(k + 1, last)` for the keyword's token `k` and the last token `last` before
        that end, found without the scanner. None when the text there is not plain (a
        comment, a dollar quote, a backslash, a string that does not end): the scanner's
        tokens must say. (A column's DEFAULT in every CREATE TABLE and ADD COLUMN: the
        scanner's tokens of the whole statement were a twentieth of a check's time.)"""
        sql = self.sql
        after = start + len(keyword)
        word = sql[start:after]
        if not word.isascii() or word.upper() != keyword or IDENTIFIER_CHARACTER.match(sql, after):
            return None
        end = len(sql) if stop is None else stop
        depth = 0
        for lexeme in _PLAIN_LEXEME.finditer(sql, after, end):
            first = sql[lexeme.start()]
            if first in "'\"" and lexeme.end() - lexeme.start() > 1:
                continue  # a whole string or quoted identifier
            if first in "([":
                depth += 1
            elif first in ")]" or first in ",;":
                if depth == 0:
                    end = lexeme.start()
                    break
                if first in ")]":
                    depth -= 1
            else:
                return None
        return sql[after:end].strip(SPACE)

    def text(self, first: int, last: int) -> str:
        """The source text from token `first` to token `last`, both included."""
        if first > last:
            return ""
        starts, ends, _ = self._scan()
        return self.sql[starts[first] : ends[last]]

    # -- file coordinates ------------------------------------------------------------------

    def _position(self, offset: int) -> tuple[int, int]:
        if self._lines is None:
            self._lines = LineIndex(self.sql)
        line, column = self._lines.position(offset)
        origin = self.statement.location
        if line == 1:
            return origin.line, origin.column + column - 1
        return origin.line + line - 1, column

    def location(self, start: int, end: int) -> Location:
        """The file location of characters start..end (both included) of the statement."""
        if not self._is_file_text:
            return self.statement.location
        line, column = self._position(start)
        end_line, end_column = self._position(max(end, start))
        return Location(line, column, end_line, end_column)

    def token_location(self, first: int, last: int) -> Location:
        starts, ends, _ = self._scan()
        return self.location(starts[first], ends[last] - 1)

    def span_location(self, start_byte: int, end_byte: int | None) -> Location:
        """The location of a byte range of the text (one of several statements in it),
        trimmed to the tokens inside it; `end_byte` None means to the end of the text."""
        start = self.char_offset(start_byte)
        end = len(self.sql) if end_byte is None else self.char_offset(end_byte)
        starts, _, names = self._scan()
        first = bisect_left(starts, start)
        last = bisect_left(starts, end) - 1
        while last > first and names[last] == _SEMICOLON:
            last -= 1
        if first > last:
            return self.location(start, max(end - 1, start))
        return self.token_location(first, last)
