"""PostgreSQL's own parser and scanner (libpg_query), called through their C API.

pglast carries libpg_query inside its extension module, but importing the module first runs
the `pglast` package, which builds every enum and AST class of the grammar: about 30 ms, a
fifth of checking one small file in a pre-commit hook. The checker needs two calls of the C
library, the parse tree as JSON and the scanner's tokens, so it makes them with ctypes on
pglast's extension module, which exports libpg_query's functions, without importing pglast.

Where the module does not export them (a Windows build exports only its init function, an
older pglast has no token scanner), the same two calls go through `pglast.parser`. Both ways
give the same answers; tests/test_libpg_query.py compares them statement by statement.
"""

from __future__ import annotations

import ctypes
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.machinery import EXTENSION_SUFFIXES, PathFinder
from os import path as os_path

__all__ = [
    "ParseError",
    "Tokens",
    "byte_to_char_table",
    "keyword_category",
    "parse_json",
    "parse_plpgsql_json",
    "scan",
]


class ParseError(Exception):
    """The grammar rejected the text: `message` as PostgreSQL words it, `index` the character
    it points at (None when the error is at the end of the input)."""

    def __init__(self, message: str, index: int | None) -> None:
        super().__init__(message, index)
        self.message = message
        self.index = index


TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import NamedTuple

    class Tokens(NamedTuple):
        starts: list[int]
        ends: list[int]
        names: list[str]

    class _Backend(NamedTuple):
        parse_json: Callable[[str], str]
        parse_plpgsql_json: Callable[[str], str]
        scan: Callable[[str], Tokens]
        keyword_category: Callable[[str], str]

else:
    # At run time, the plain named tuples typing's would make: importing typing, and a
    # NamedTuple class compiling its annotations, cost a pre-commit run several percent.
    Tokens = namedtuple("Tokens", ["starts", "ends", "names"])
    _Backend = namedtuple(
        "_Backend", ["parse_json", "parse_plpgsql_json", "scan", "keyword_category"]
    )
Tokens.__doc__ = """A text's scanner tokens, as parallel lists (a check scans thousands of
    statements, and an object per token costs more than the scan): where each starts and ends
    (character indexes, `text[start:end]`) and the grammar's name for it (`DEFAULT`, `IDENT`,
    `ASCII_44` for a comma, `SQL_COMMENT`, …)."""


def _error_index(text: str, cursor_position: int) -> int | None:
    # PostgreSQL reports an error's position as the 1-based index of a character.
    index = cursor_position - 1
    return index if 0 <= index < len(text) else None


# --- the C API ------------------------------------------------------------------------------
# Layouts from libpg_query's pg_query.h.


class _Error(ctypes.Structure):
    _fields_ = (
        ("message", ctypes.c_char_p),
        ("funcname", ctypes.c_char_p),
        ("filename", ctypes.c_char_p),
        ("lineno", ctypes.c_int),
        ("cursorpos", ctypes.c_int),
        ("context", ctypes.c_char_p),
    )


# Pointers are read as plain addresses (c_void_p gives an int, or None for NULL): building a
# ctypes pointer object for each field read costs more than the parse of a short statement.


class _ParseResult(ctypes.Structure):
    _fields_ = (
        ("parse_tree", ctypes.c_void_p),
        ("stderr_buffer", ctypes.c_void_p),
        ("error", ctypes.c_void_p),
    )


class _PlpgsqlParseResult(ctypes.Structure):
    _fields_ = (
        ("plpgsql_funcs", ctypes.c_void_p),
        ("error", ctypes.c_void_p),
    )


class _ScanTokensResult(ctypes.Structure):
    # `tokens` points at n_tokens structs of four C ints: start, end (byte offsets, end
    # exclusive), token and keyword kind.
    _fields_ = (
        ("tokens", ctypes.c_void_p),
        ("n_tokens", ctypes.c_int),
        ("error", ctypes.c_void_p),
    )


_TOKEN_FIELDS = 4
_C_INT_SIZE = ctypes.sizeof(ctypes.c_int)


class _CLibrary:
    """libpg_query's functions in pglast's extension module at `path`; AttributeError when
    the module does not export one of them."""

    def __init__(self, path: str) -> None:
        library = ctypes.CDLL(path)
        self._parse = library.pg_query_parse
        self._parse.argtypes, self._parse.restype = (ctypes.c_char_p,), _ParseResult
        self._free_parse = library.pg_query_free_parse_result
        self._free_parse.argtypes, self._free_parse.restype = (_ParseResult,), None
        self._parse_plpgsql = library.pg_query_parse_plpgsql
        self._parse_plpgsql.argtypes = (ctypes.c_char_p,)
        self._parse_plpgsql.restype = _PlpgsqlParseResult
        self._free_plpgsql = library.pg_query_free_plpgsql_parse_result
        self._free_plpgsql.argtypes, self._free_plpgsql.restype = (_PlpgsqlParseResult,), None
        self._scan = library.pg_query_scan_tokens
        self._scan.argtypes, self._scan.restype = (ctypes.c_char_p,), _ScanTokensResult
        self._free_scan = library.pg_query_free_scan_tokens_result
        self._free_scan.argtypes, self._free_scan.restype = (_ScanTokensResult,), None
        token_name = library.pg_query_token_name
        token_name.argtypes, token_name.restype = (ctypes.c_int,), ctypes.c_char_p
        self._token_names = _Names(token_name)
        keyword_name = library.pg_query_keyword_kind_name
        keyword_name.argtypes, keyword_name.restype = (ctypes.c_int,), ctypes.c_char_p
        self._keyword_names = _Names(keyword_name)

    def parse_json(self, text: str) -> str:
        result = self._parse(text.encode("utf-8"))
        try:
            if result.error is not None:
                raise _parse_error(text, result.error)
            return ctypes.string_at(result.parse_tree).decode("utf-8")
        finally:
            self._free_parse(result)

    def parse_plpgsql_json(self, text: str) -> str:
        result = self._parse_plpgsql(text.encode("utf-8"))
        try:
            if result.error is not None:
                raise _parse_error(text, result.error)
            return ctypes.string_at(result.plpgsql_funcs).decode("utf-8")
        finally:
            self._free_plpgsql(result)

    def scan(self, text: str) -> Tokens:
        result = self._scan(text.encode("utf-8"))
        try:
            if result.error is not None:
                raise _parse_error(text, result.error)
            size = result.n_tokens * _TOKEN_FIELDS * _C_INT_SIZE
            raw = ctypes.string_at(result.tokens, size) if size else b""
        finally:
            self._free_scan(result)
        fields = memoryview(raw).cast("i").tolist()
        starts, ends = fields[0::_TOKEN_FIELDS], fields[1::_TOKEN_FIELDS]
        if not text.isascii():
            to_char = byte_to_char_table(text)
            starts, ends = [to_char[b] for b in starts], [to_char[b] for b in ends]
        return Tokens(starts, ends, self._token_names.of(fields[2::_TOKEN_FIELDS]))

    def keyword_category(self, word: str) -> str:
        result = self._scan(word.encode("utf-8"))
        try:
            if result.error is not None or not result.n_tokens:
                return "NO_KEYWORD"
            # The first token's fourth field: its keyword kind.
            kind = ctypes.c_int.from_address(result.tokens + 3 * _C_INT_SIZE).value
        finally:
            self._free_scan(result)
        return self._keyword_names.of([kind])[0]


class _Names:
    """The names a C function gives to the numbers of an enum, each asked for once."""

    def __init__(self, name_of: Callable[[int], bytes | None]) -> None:
        self._name_of = name_of
        self._known: dict[int, str] = {}

    def of(self, numbers: list[int]) -> list[str]:
        known = self._known
        try:
            return [known[number] for number in numbers]
        except KeyError:
            for number in set(numbers) - known.keys():
                raw = self._name_of(number)
                known[number] = raw.decode("ascii") if raw else "UNKNOWN"
            return [known[number] for number in numbers]


def _parse_error(text: str, address: int) -> ParseError:
    error = _Error.from_address(address)
    return ParseError(error.message.decode("utf-8"), _error_index(text, error.cursorpos))


def byte_to_char_table(text: str) -> list[int]:
    """For each byte offset of `text` in UTF-8 (and one past the end), its character index:
    libpg_query speaks in byte offsets."""
    table: list[int] = []
    for index, character in enumerate(text):
        table.extend([index] * len(character.encode("utf-8")))
    table.append(len(text))
    return table


def _pglast_extension() -> str | None:
    """The path of pglast's extension module, found without importing pglast."""
    spec = PathFinder.find_spec("pglast")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in EXTENSION_SUFFIXES:
            candidate = os_path.join(folder, f"parser{suffix}")
            if os_path.isfile(candidate):
                return candidate
    return None


# --- through pglast -------------------------------------------------------------------------


@contextmanager
def _pglast_errors() -> Iterator[None]:
    from pglast.parser import ParseError as PglastParseError

    try:
        yield
    except PglastParseError as error:
        raise ParseError(error.args[0], error.args[1] if len(error.args) > 1 else None) from None


def _pglast_parse_json(text: str) -> str:
    from pglast.parser import parse_sql_json

    with _pglast_errors():
        return parse_sql_json(text)


def _pglast_parse_plpgsql_json(text: str) -> str:
    from pglast.parser import parse_plpgsql_json

    with _pglast_errors():
        return parse_plpgsql_json(text)


def _pglast_scan(text: str) -> Tokens:
    from pglast.parser import scan as pglast_scan

    with _pglast_errors():
        tokens = pglast_scan(text)
    return Tokens(
        [token.start for token in tokens],
        [token.end + 1 for token in tokens],  # pglast's ends are inclusive
        [token.name for token in tokens],
    )


def _pglast_keyword_category(word: str) -> str:
    from pglast.parser import scan as pglast_scan

    try:
        with _pglast_errors():
            tokens = pglast_scan(word)
    except ParseError:
        return "NO_KEYWORD"
    return tokens[0].kind if tokens else "NO_KEYWORD"


def _backend() -> _Backend:
    extension = _pglast_extension()
    if extension is not None:
        try:
            library = _CLibrary(extension)
        except (OSError, AttributeError):
            pass
        else:
            return _Backend(
                library.parse_json,
                library.parse_plpgsql_json,
                library.scan,
                library.keyword_category,
            )
    return _Backend(
        _pglast_parse_json, _pglast_parse_plpgsql_json, _pglast_scan, _pglast_keyword_category
    )


_parse_json, _parse_plpgsql_json, _scan, _keyword_category = _backend()


def parse_json(text: str) -> str:
    """The parse tree of `text` as libpg_query's JSON (its locations are offsets into the
    text's UTF-8 bytes); ParseError when the grammar rejects it, UnicodeEncodeError when
    `text` holds a lone surrogate."""
    return _parse_json(text)


def parse_plpgsql_json(text: str) -> str:
    """The PL/pgSQL trees of the `CREATE FUNCTION … LANGUAGE plpgsql` statements in `text`, as
    libpg_query's JSON (a list of `PLpgSQL_function`); ParseError when a body is rejected."""
    return _parse_plpgsql_json(text)


def scan(text: str) -> Tokens:
    """The scanner's tokens of `text`, comments included; ParseError when it cannot be
    scanned (an unterminated quote)."""
    return _scan(text)


def keyword_category(word: str) -> str:
    """PostgreSQL's category of `word` as a keyword: `NO_KEYWORD`, `UNRESERVED_KEYWORD`,
    `COL_NAME_KEYWORD`, `TYPE_FUNC_NAME_KEYWORD` or `RESERVED_KEYWORD`."""
    return _keyword_category(word)
