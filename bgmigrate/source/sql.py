"""SQL files → units: split into located statements, number transaction blocks, read tags.

The splitter follows psql, the reference runner, so a statement here is what psql would send
to the server: semicolons split only outside comments (nested `/* */` included), string
literals (`'…'`, `E'…'`, `U&'…'`), quoted identifiers, dollar-quoted bodies, parentheses, and
the `BEGIN … END` body of `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC`.
Unterminated input makes the rest of the file one last statement; splitting never fails.
psql's own commands (`\\connect`, `:variables`) are not interpreted, and strings follow
`standard_conforming_strings = on` (the default since PostgreSQL 9.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bgmigrate.source.lines import LineIndex
from bgmigrate.source.tags import TagComment, collect_tags
from bgmigrate.source.templates import substitute_templates
from bgmigrate.source.transactions import transaction_blocks
from bgmigrate.source.unit import Location, Statement, Unit, UnitKind
from bgmigrate.values import Value, frozen_value, replace

__all__ = ["IDENTIFIER_CHARACTER", "SPACE", "SqlPiece", "read_sql_unit", "split_sql"]

SPACE = " \t\n\r\f\v"
"""PostgreSQL's whitespace; other Unicode spaces are identifier characters to its lexer."""

# Identifier characters as PostgreSQL's lexer sees them: ASCII letters, digits, `_`, `$` and
# every non-ASCII character. Written as negated ASCII classes, which compile in microseconds
# where an `\x80-\U0010FFFF` range takes milliseconds (this module loads on every `check`).
_IDENT_CHAR = r"^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f"
_TAG_START = r"^\x00-\x40\x5b-\x5e\x60\x7b-\x7f"
"""A dollar-quote tag's first character: a letter, `_` or non-ASCII."""
_TAG_CHAR = r"^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f"
"""A dollar-quote tag's later characters: also digits, but never `$`."""

# The characters where something a semicolon can hide in may start. A lone character class lets
# the regex engine skip the text between them at C speed; the code then looks closer.
_TRIGGER = re.compile(r"""[;'"$\-/]""")
# Inside a routine definition psql also counts BEGIN/CASE … END, so that the semicolons of a
# `BEGIN ATOMIC … END` body do not split it.
_ROUTINE_TRIGGER = re.compile(rf"""[;'"$\-/]|(?i:begin|case|end)(?![{_IDENT_CHAR}])""")
# psql's identifier token, whose first four in a statement tell whether it defines a routine.
_WORD = re.compile(rf"[{_TAG_START}][{_IDENT_CHAR}]*")
_NUMBER = re.compile(rf"\.?[0-9](?:[{_IDENT_CHAR}.]|(?<=[eE])[+-])*")
"""A number, with what psql's lexer glues to it (`1e-5`, `0x1F`, `1abc`): never an identifier."""
_ROUTINE_WORDS = {"create": "c", "or": "o", "replace": "r", "function": "f", "procedure": "p"}
_CREATE_THEN_WORD = re.compile(
    rf"(?i)create[{SPACE}]+([{_TAG_START}][{_IDENT_CHAR}]*)(?![{_IDENT_CHAR}]|['&])"
)
"""CREATE and a whole word after it, no string's prefix (`E'`): the statement's second
identifier."""
_WORD_START_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
# Literals match up to the end of the text when unterminated.
_STRING = re.compile(r"'[^']*(?:''[^']*)*'?")
_ESCAPE_STRING = re.compile(r"'[^'\\]*(?:(?:\\[\s\S]?|'')[^'\\]*)*'?")
_QUOTED_IDENTIFIER = re.compile(r'"[^"]*(?:""[^"]*)*"?')
_DOLLAR_DELIMITER = re.compile(rf"\$(?:[{_TAG_START}][{_TAG_CHAR}]*)?\$")
IDENTIFIER_CHARACTER = re.compile(rf"[{_IDENT_CHAR}]")
_IDENTIFIER_CHARACTERS_TO_END = re.compile(rf"[{_IDENT_CHAR}]*\Z")
_NUMBER_OR_PARAMETER = re.compile(r"\$?[0-9][0-9_]*")
_LEADING_SPACE = re.compile(rf"[{SPACE}]*")
_LINE_COMMENT = re.compile(r"--[^\n\r]*")
_COMMENT_DELIMITER = re.compile(r"/\*|\*/")
_PARENTHESIS = re.compile(r"[()]")


@frozen_value
class SqlPiece(Value):
    """One statement as split from a text: no trailing semicolon, no surrounding comments.

    `text[start:end] == sql`; `location` spans its first to its last character.
    """

    sql: str
    start: int
    end: int
    location: Location


def split_sql(text: str) -> list[SqlPiece]:
    """Split SQL text into its statements, in order, skipping empty ones."""
    lines = LineIndex(text)
    return [SqlPiece(sql, start, end, lines.span(start, end)) for sql, start, end in _scan(text)[0]]


def read_sql_unit(
    path: str, text: str, *, assume_in_transaction: bool = False, lines: LineIndex | None = None
) -> Unit:
    """A SQL migration unit from a file's (or stdin's) text. Template expressions (`{{ … }}`,
    `${…}`) are substituted for parsing; the unit keeps the text as written.

    `assume_in_transaction`: the runner wraps the whole file in one transaction. `lines`: the
    text's `LineIndex`, when the caller has built it already.
    """
    if text.startswith("\ufeff"):
        text, lines = text[1:], None
    if lines is None:
        lines = LineIndex(text)
    original = text
    substituted = substitute_templates(text)
    text = substituted.text
    pieces, comments = _scan(text)
    blocks = transaction_blocks(
        (sql for sql, _, _ in pieces), assume_in_transaction=assume_in_transaction
    )
    first_start = pieces[0][1] if pieces else len(text)
    tags = collect_tags(
        TagComment(body, lines.span(start, end), leading=start < first_start)
        for body, start, end in _tag_comments(text, comments)
    )
    statements = [
        Statement(sql, path, lines.span(start, end), index, block)
        for index, ((sql, start, end), block) in enumerate(zip(pieces, blocks, strict=True))
    ]
    if substituted.templates:
        statements = _with_templates(statements, pieces, substituted.templates, original)
    return Unit(
        path=path,
        kind=UnitKind.SQL,
        phase=tags.phase,
        statements=statements,
        suppressions=tags.suppressions,
        text=original,
        problems=tags.problems,
    )


def _with_templates(
    statements: list[Statement],
    pieces: list[tuple[str, int, int]],
    templates: tuple[tuple[int, int, str], ...],
    original: str,
) -> list[Statement]:
    """Each statement with the first template expression inside it named, and its text as
    written kept for the reports."""
    named = []
    for statement, (_, start, end) in zip(statements, pieces, strict=True):
        inside = next((text for at, _, text in templates if start <= at < end), "")
        # A template's padding may end the statement: the text as written runs to its end.
        end = max([end, *(stop for at, stop, _ in templates if at < end < stop)])
        written = original[start:end]
        named.append(replace(statement, template=inside, written=written) if inside else statement)
    return named


def _tag_comments(text: str, comments: list[tuple[int, int]]) -> Iterator[tuple[str, int, int]]:
    """The comments that may hold a tag: their text without markers, and their span without
    trailing whitespace."""
    for start, end in comments:
        line_comment = text.startswith("--", start)
        body = text[start + 2 : end] if line_comment else text[start + 2 : end - 2]
        if "bgmigrate" not in body.lower():
            continue
        if line_comment:
            end = start + 2 + len(body.rstrip(SPACE))
        yield body, start, end


def _scan(text: str) -> tuple[list[tuple[str, int, int]], list[tuple[int, int]]]:
    """Each statement as (sql, start, end) with `text[start:end] == sql`, and the (start, end)
    of each complete comment."""
    length = len(text)
    pieces: list[tuple[str, int, int]] = []
    comments: list[tuple[int, int]] = []
    skip_space = _LEADING_SPACE.match
    position = 0
    while True:
        start = skip_space(text, position).end()
        if start >= length:
            break
        char = text[start]
        if char == ";":
            position = start + 1
            continue
        if char in "-/" and text.startswith(("--", "/*"), start):
            comment_end = _comment_end(text, start)
            if comment_end is not None:
                comments.append((start, comment_end))
                position = comment_end
                continue
            # An unterminated comment is the last statement, as for the server.
        end, position = _statement_end(text, start, comments)
        sql = text[start:end].rstrip(SPACE)
        pieces.append((sql, start, start + len(sql)))
    return pieces, comments


def _statement_end(text: str, start: int, comments: list[tuple[int, int]]) -> tuple[int, int]:
    """Scan a statement from its first character: (the end of its last significant character,
    where the search for the next statement starts)."""
    length = len(text)
    # Nearly every statement starts with a word other than CREATE (nor a string's prefix,
    # `E'`): that settles it without a call.
    first = text[start]
    routine = (first not in _WORD_START_LETTERS or first in "cCeEbBxXnNuU") and _defines_routine(
        text, start
    )
    search = (_ROUTINE_TRIGGER if routine else _TRIGGER).search
    parentheses = 0
    body_depth = 0
    significant_end = start
    previous = start
    search_from = start
    while True:
        match = search(text, search_from)
        if match is None:
            return _last_significant(text, previous, length, significant_end), length
        at = match.start()
        char = text[at]
        if char in "'\"$":
            end = _literal_end(text, at, previous)
        elif char in "-/":
            end = _comment_end(text, at) if text.startswith(("--", "/*"), at) else at
        elif char == ";" or not _continues_word(text, at, previous):
            end = match.end()
        else:
            end = at  # a BEGIN, CASE or END inside a longer word
        if end is None:
            return length, length
        if end == at:
            search_from = at + 1
            continue
        if at > previous:
            # Parentheses are counted between literals and comments, not one by one.
            parentheses = _depth_after(text, previous, at, parentheses)
            if char in ";-/":
                significant_end = _last_significant(text, previous, at, significant_end)
        if char == ";":
            if parentheses == 0 and body_depth == 0:
                return significant_end, end
        elif char in "-/":
            comments.append((at, end))
            previous = search_from = end
            continue
        elif char not in "'\"$" and parentheses == 0:
            body_depth = _body_depth(match.group().lower(), body_depth)
        significant_end = previous = search_from = end


def _defines_routine(text: str, start: int) -> bool:
    """Whether psql counts `BEGIN … END` in the statement starting at `start`: when its first
    four identifiers outside parentheses read CREATE [OR REPLACE] FUNCTION|PROCEDURE. As in
    psql (measured against its own split), only those identifier tokens count: strings,
    numbers, operators and anything in parentheses do not (`$CREATE FUNCTION f() BEGIN; …` and
    `CREATE (x) FUNCTION f() BEGIN; …` are one statement to psql, `CREATE (FUNCTION) BEGIN;`
    ends at its semicolon)."""
    second = _CREATE_THEN_WORD.match(text, start)
    if second is not None:  # CREATE and a word: the first two identifiers, read in one match
        word = second.group(1).lower()
        if word != "or":
            return word in ("function", "procedure")
    elif _starts_with_other_word(text, start):
        return False
    letters: list[str] = []
    depth = 0
    previous = position = start
    length = len(text)
    while position < length:
        char = text[position]
        if char in SPACE:
            position = _LEADING_SPACE.match(text, position).end()
            continue
        if char in "-/" and text.startswith(("--", "/*"), position):
            end = _comment_end(text, position)
        elif char in "'\"$":
            end = _literal_end(text, position, previous)
            if end == position:  # a `$` that opens nothing: a parameter, or a lone `$`
                number = _NUMBER.match(text, position + 1)
                end = number.end() if number is not None else position + 1
        elif (word := _WORD.match(text, position)) is not None:
            if _opens_literal(text, word):  # E'…', B'…', U&'…': the literal's own prefix
                previous, position = position, word.end() + (text[word.end()] == "&")
                continue
            if depth == 0:  # psql does not count the identifiers inside parentheses
                letters.append(_ROUTINE_WORDS.get(word.group().lower(), ""))
                verdict = _routine_so_far(letters)
                if verdict is not None:
                    return verdict
            end = word.end()
        elif (number := _NUMBER.match(text, position)) is not None:
            end = number.end()
        else:
            if char == ";" and depth == 0:
                return False  # the statement ended before its identifiers said
            if char == "(":
                depth += 1
            elif char == ")" and depth:  # psql ignores a `)` that closes nothing
                depth -= 1
            end = position + 1
        if end is None:
            return False  # an unterminated comment or dollar quote runs to the end
        previous = position = end
    return False


def _starts_with_other_word(text: str, start: int) -> bool:
    """Whether the statement's first token is an identifier other than CREATE."""
    first = _WORD.match(text, start)
    return (
        first is not None and not _opens_literal(text, first) and first.group().lower() != "create"
    )


def _opens_literal(text: str, word: re.Match[str]) -> bool:
    """Whether the word is the prefix of a string (`E'`, `B'`, `X'`, `N'`, `U&'`, `U&"`)."""
    return word.end() == word.start() + 1 and _literal_prefix(text, word.start())


def _literal_prefix(text: str, at: int) -> bool:
    """Whether the letter at `at` starts a string's prefix (`E'`, `B'`, `X'`, `N'`, `U&'`)."""
    letter = text[at]
    if letter in "uU":
        return text.startswith(("&'", '&"'), at + 1)
    return letter in "eEbBxXnN" and text.startswith("'", at + 1)


def _routine_so_far(letters: list[str]) -> bool | None:
    """psql's test of its first identifiers, known so far: True or False once they decide."""
    if letters[0] != "c":
        return False
    if len(letters) < 2:
        return None
    if letters[1] in ("f", "p"):
        return True
    if letters[1] != "o" or (len(letters) > 2 and letters[2] != "r"):
        return False
    if len(letters) < 4:
        return None
    return letters[3] in ("f", "p")


def _depth_after(text: str, start: int, end: int, depth: int) -> int:
    """The parenthesis depth after text[start:end], holding no literal or comment. As in psql,
    a `)` at depth 0 is ignored."""
    closes = text.count(")", start, end)
    if closes <= depth:  # the depth cannot reach zero on the way: counting is exact
        return depth + text.count("(", start, end) - closes
    for parenthesis in _PARENTHESIS.findall(text, start, end):  # a few, in order
        if parenthesis == "(":
            depth += 1
        elif depth:
            depth -= 1
    return depth


def _body_depth(word: str, depth: int) -> int:
    """psql's count of `BEGIN … END` nesting in a routine definition; CASE … END nests in it."""
    if word == "begin" or (word == "case" and depth > 0):
        return depth + 1
    if word == "end" and depth > 0:
        return depth - 1
    return depth


def _literal_end(text: str, at: int, previous: int) -> int | None:
    """The end of the string, quoted identifier or dollar quote opening at `at` (the last token
    ended at `previous`); None when a dollar quote never closes, `at` when a `$` opens nothing."""
    char = text[at]
    if char == "'":
        escapes = (
            at > previous and text[at - 1] in "Ee" and not _continues_word(text, at - 1, previous)
        )
        return (_ESCAPE_STRING if escapes else _STRING).match(text, at).end()
    if char == '"':
        return _QUOTED_IDENTIFIER.match(text, at).end()
    delimiter = _DOLLAR_DELIMITER.match(text, at)
    if delimiter is None or _continues_identifier(text, at, previous):
        return at
    close = text.find(delimiter.group(), delimiter.end())
    return close + delimiter.end() - at if close >= 0 else None


def _continues_word(text: str, position: int, previous: int) -> bool:
    """Whether the character at `position` is glued to a word before it, so that PostgreSQL's
    lexer does not start a token there (`nameE'…'`, `xbegin`, `1end`)."""
    return position > previous and IDENTIFIER_CHARACTER.match(text, position - 1) is not None


def _continues_identifier(text: str, at: int, previous: int) -> bool:
    """Whether the `$` at `at` belongs to the identifier before it (`a$b$`). After a number or
    a parameter (`1$$`, `$1$$`) it does not: those end where the `$` begins."""
    if not _continues_word(text, at, previous):
        return False
    word = _IDENTIFIER_CHARACTERS_TO_END.search(text, previous, at)
    assert word is not None  # it matches the empty string at `at` at the latest
    return _NUMBER_OR_PARAMETER.fullmatch(text, word.start(), at) is None


def _last_significant(text: str, start: int, end: int, otherwise: int) -> int:
    """The end of the last non-space character in text[start:end], else `otherwise`."""
    if end <= start:
        return otherwise
    if text[end - 1] not in SPACE:
        return end
    stripped = len(text[start:end].rstrip(SPACE))
    return start + stripped if stripped else otherwise


def _comment_end(text: str, start: int) -> int | None:
    """The end of the `--` or (nested) `/*` comment at `start`; None if it never closes."""
    if text.startswith("--", start):
        return _LINE_COMMENT.match(text, start).end()
    depth = 0
    for delimiter in _COMMENT_DELIMITER.finditer(text, start):
        depth += 1 if delimiter.group() == "/*" else -1
        if depth == 0:
            return delimiter.end()
    return None
