"""libpg_query through its C API must answer exactly as pglast's own binding does.

The checker calls the C library directly (bgmigrate.parse.libpg_query) to avoid importing
pglast; where that is impossible it goes through `pglast.parser`. Both ways are compared here,
statement by statement: the same JSON tree, the same tokens, the same errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fresh_interpreter import imported_packages
from hypothesis import given, settings
from hypothesis import strategies as st

from bgmigrate.parse import libpg_query
from bgmigrate.parse.libpg_query import ParseError, Tokens
from bgmigrate.rules import CATALOG
from bgmigrate.source.sql import split_sql

FIXTURES = Path(__file__).parent.parent / "fixtures"

TRICKY = [
    "",
    "   ",
    "-- only a comment",
    "SELECT 1; SELECT 2",
    "ALTER TABLE users ADD COLUMN ünïcode text DEFAULT 'é€😀', ADD COLUMN b int",
    "COMMENT ON TABLE t IS '日本語のコメント'; SELECT 'x'",
    "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql",
    "SELECT E'\\'quoted\\'', U&'\\0041', B'101', X'ff', 1.5e3, $1",
    "SELECT 1 /* nested /* comment */ still */ + 2",
    'SELECT "Quoted ""Ident""", order_id FROM "order"',
    "ALTER TABLE t RENAME a TO b",
    "selec 1",  # syntax error at the start
    "SELECT 'unterminated",  # the scanner fails too
    "SELECT (1",  # error at the end of the input: no index
    "SELECT 'é' FROM",  # error after a multibyte character
    "CREATE TABLE t (a int, b text",
]


def _c_library() -> libpg_query._CLibrary:
    extension = libpg_query._pglast_extension()
    if extension is None:
        pytest.skip("pglast's extension module was not found on sys.path")
    try:
        return libpg_query._CLibrary(extension)
    except (OSError, AttributeError) as error:
        pytest.skip(f"pglast's extension does not export libpg_query's functions: {error}")


def _outcome(call, text: str) -> tuple[str, object]:
    try:
        return "ok", call(text)
    except ParseError as error:
        return "error", (error.message, error.index)
    except UnicodeEncodeError as error:
        return "unencodable", error.start


def _assert_same(text: str) -> None:
    library = _c_library()
    assert _outcome(library.parse_json, text) == _outcome(libpg_query._pglast_parse_json, text)
    assert _outcome(library.scan, text) == _outcome(libpg_query._pglast_scan, text)


def _corpus() -> list[str]:
    texts = list(TRICKY)
    for path in sorted(FIXTURES.rglob("*.sql")):
        texts.extend(piece.sql for piece in split_sql(path.read_text()))
    for rule in CATALOG.values():
        examples = (*rule.flagged, *rule.passing)
        texts.extend(example.sql for example in examples if example.language == "sql")
    return texts


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(_corpus()) > 200


@pytest.mark.parametrize("text", _corpus())
def test_the_c_api_answers_as_pglast_does(text: str) -> None:
    _assert_same(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "SELECT",
                    "ALTER TABLE t ADD COLUMN",
                    "'",
                    '"',
                    "$$",
                    "$a$",
                    "--",
                    "/*",
                    "*/",
                    ";",
                    "(",
                    ")",
                    ",",
                    "é",
                    "😀",
                    "\n",
                    " ",
                    "E'\\",
                    "\ud800",
                ]
            ),
            st.text(max_size=8),
        ),
        max_size=12,
    ).map("".join)
)
def test_any_text_gets_the_same_answer_both_ways(text: str) -> None:
    _assert_same(text)


def test_the_tree_is_json_with_byte_offsets() -> None:
    tree = json.loads(libpg_query.parse_json("SELECT 'é'; SELECT 2"))
    # 'é' is two bytes in UTF-8: the second statement starts at byte 13, character 12.
    assert tree["stmts"][1]["stmt_location"] == 13


def test_tokens_are_located_by_character_and_named_by_the_grammar() -> None:
    text = "SELECT 'é', \"order\" -- c"
    tokens = libpg_query.scan(text)
    assert tokens == Tokens(
        starts=[0, 7, 10, 12, 20],
        ends=[6, 10, 11, 19, 24],
        names=["SELECT", "SCONST", "ASCII_44", "IDENT", "SQL_COMMENT"],
    )
    assert text[tokens.starts[1] : tokens.ends[1]] == "'é'"


@pytest.mark.parametrize(
    ("word", "category"),
    [
        ("name", "UNRESERVED_KEYWORD"),
        ("user", "RESERVED_KEYWORD"),
        ("int", "COL_NAME_KEYWORD"),
        ("left", "TYPE_FUNC_NAME_KEYWORD"),
        ("email", "NO_KEYWORD"),
        ("'unterminated", "NO_KEYWORD"),
        ("", "NO_KEYWORD"),
    ],
)
def test_keyword_categories_are_postgres_own(word: str, category: str) -> None:
    assert libpg_query.keyword_category(word) == category
    assert libpg_query._pglast_keyword_category(word) == category
    assert _c_library().keyword_category(word) == category


def test_errors_carry_postgres_message_and_character_index() -> None:
    with pytest.raises(ParseError) as raised:
        libpg_query.parse_json("SELECT 'é' FRM t")
    assert raised.value.message == 'syntax error at or near "t"'
    assert raised.value.index == 15
    with pytest.raises(ParseError) as at_end:
        libpg_query.parse_json("SELECT (1")
    assert at_end.value.index is None


FALLBACK_SQL = (
    "ALTER TABLE users ADD COLUMN a int DEFAULT 'é', ADD COLUMN b int NOT NULL;\n"
    "CREATE INDEX ix ON users (lower(email)) WHERE b > 0;\n"
    "SELECT (1\n"
)


def _finding_lines(sql: str) -> list[str]:
    from bgmigrate.check.api import check_sql

    return [
        f"{f.rule} {f.location.line}:{f.location.column}-{f.location.end_line}:"
        f"{f.location.end_column} {f.message}"
        for f in check_sql(sql).findings
    ]


def test_without_the_c_functions_the_checker_goes_through_pglast() -> None:
    # As on a build whose extension exports nothing but its init function (Windows).
    code = (
        "import ctypes\n"
        "def unavailable(*args, **kwargs):\n"
        "    raise OSError('no libpg_query symbols here')\n"
        "ctypes.CDLL = unavailable\n"
        "from bgmigrate.parse import libpg_query\n"
        "assert libpg_query._parse_json is libpg_query._pglast_parse_json\n"
        "from test_libpg_query import FALLBACK_SQL, _finding_lines\n"
        "print('\\n'.join(_finding_lines(FALLBACK_SQL)))\n"
    )
    printed, packages = imported_packages(code, cwd=Path(__file__).parent)
    assert "pglast" in packages
    expected = _finding_lines(FALLBACK_SQL)
    assert len(expected) >= 4
    assert printed.splitlines() == expected


@pytest.mark.parametrize(
    "text",
    [
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
        "IF true THEN ALTER TABLE t ADD c int; END IF; EXECUTE format('DROP TABLE %I', 't'); "
        "END $$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN ALTER TABLE t END $$",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 'é€'; END $$",
    ],
)
def test_the_plpgsql_parser_answers_alike_both_ways(text: str) -> None:
    library = _c_library()
    assert _outcome(library.parse_plpgsql_json, text) == _outcome(
        libpg_query._pglast_parse_plpgsql_json, text
    )
