"""A column's DEFAULT text read without the scanner (`StatementText.plain_element_rest`) is
the text the scanner's tokens give, wherever it answers; where the text is not plain it
leaves the answer to them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bgmigrate.parse.operations import AddColumn, CreateTable
from bgmigrate.parse.postgres import parse_statement
from bgmigrate.parse.statement_text import StatementText
from bgmigrate.source.sql import read_sql_unit
from bgmigrate.source.unit import Location, Statement

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _defaults(sql: str) -> list[str | None]:
    """The DEFAULT text of each column the statement defines or adds."""
    statement = Statement(sql, "t.sql", Location(1, 1, 1, 1), 0)
    found: list[str | None] = []
    for op in parse_statement(statement):
        if isinstance(op, CreateTable):
            columns = list(op.columns)
        elif isinstance(op, AddColumn):
            columns = [op.column]
        else:
            continue
        found.extend(column.default.sql if column.default else None for column in columns)
    return found


def _both_ways(sql: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str | None], ...]:
    plain = _defaults(sql)
    with monkeypatch.context() as patched:
        patched.setattr(StatementText, "plain_element_rest", lambda *arguments: None)
        scanned = _defaults(sql)
    return plain, scanned


_EXPRESSIONS = st.lists(
    st.sampled_from(
        [
            "now()",
            "0",
            "-1.5e-3",
            "'x'",
            "''",
            "'it''s'",
            "E'a\\'b'",
            "'a\\b'",
            "B'101'",
            '"Col"',
            '"a""b"',
            "ARRAY[1, 2]",
            "'{}'::jsonb",
            "f(1, 2)",
            "(1 + 2)",
            "::text",
            " ",
            "\n",
            "\t",
            "/* c, ) */",
            "-- c, )\n",
            "$$x, y$$",
            "$t$a$t$",
            "||",
            "+",
            "*",
            "/",
            "current_timestamp",
            "gen_random_uuid()",
            "(",
            ")",
            "[1]",
            "U&'\\0041'",
            "'a' 'b'",
            "'a'\n'b'",
            "x'1F'",
            "é",
            "'é€'",
            "CASE WHEN true THEN 1 ELSE 2 END",
        ]
    ),
    min_size=1,
    max_size=6,
).map("".join)
_AFTER = st.sampled_from(
    [
        "",
        " NOT NULL",
        " NULL",
        " CHECK (c > 0)",
        " REFERENCES r (id)",
        " UNIQUE",
        ' COLLATE "C"',
        " PRIMARY KEY",
        " CONSTRAINT k CHECK (c <> '')",
        " /* x */ NOT NULL",
        " -- trailing\n",
        "\n",
    ]
)
_SHAPES = st.sampled_from(
    [
        "CREATE TABLE t (c text DEFAULT {default}{after}, d int)",
        "CREATE TABLE t (a int, c text DEFAULT {default}{after})",
        "CREATE TABLE t (c text DEFAULT{default}{after});",
        "ALTER TABLE t ADD COLUMN c text DEFAULT {default}{after}",
        "ALTER TABLE t ADD COLUMN c text DEFAULT {default}{after}, ADD COLUMN d int DEFAULT 1",
        "ALTER TABLE t ADD COLUMN c text CONSTRAINT named DEFAULT {default}{after}",
        "CREATE TABLE t (c numeric(10, 2) default {default}{after} , d int)",
    ]
)


@settings(max_examples=400, deadline=None)
@given(shape=_SHAPES, default=_EXPRESSIONS, after=_AFTER)
@example(shape="CREATE TABLE t (c text DEFAULT {default}{after}, d int)", default="now()", after="")
def test_a_default_read_without_the_scanner_is_the_scanners(
    shape: str, default: str, after: str
) -> None:
    monkeypatch = pytest.MonkeyPatch()
    plain, scanned = _both_ways(shape.format(default=default, after=after), monkeypatch)
    assert plain == scanned


def test_every_fixture_default_is_read_as_the_scanner_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared = 0
    for path in sorted(FIXTURES.rglob("*.sql")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for statement in read_sql_unit(path.name, text).statements:
            if "default" not in statement.sql.lower():
                continue
            plain, scanned = _both_ways(statement.sql, monkeypatch)
            assert plain == scanned, statement.sql
            compared += len(plain)
    assert compared > 20


@pytest.mark.parametrize(
    ("sql", "answers"),
    [
        ("ALTER TABLE t ADD COLUMN c int DEFAULT 0 NOT NULL", True),
        ("ALTER TABLE t ADD COLUMN c text DEFAULT 'a,b' COLLATE \"C\"", True),
        ("ALTER TABLE t ADD COLUMN c text DEFAULT $$a$$", False),  # a dollar quote
        ("ALTER TABLE t ADD COLUMN c text DEFAULT E'a\\'b'", False),  # a backslash escape
        ("ALTER TABLE t ADD COLUMN c int DEFAULT /* one */ 1", False),  # a comment
        ("ALTER TABLE t ADD COLUMN c int CONSTRAINT k DEFAULT 1", False),  # a named default
    ],
)
def test_what_is_not_plain_goes_to_the_scanner(sql: str, answers: bool) -> None:
    statement = Statement(sql, "t.sql", Location(1, 1, 1, 1), 0)
    text = StatementText(statement)
    start = sql.index("DEFAULT") if answers or "CONSTRAINT" not in sql else sql.index("CONSTRAINT")
    assert (text.plain_element_rest("DEFAULT", start, None) is not None) == answers


@settings(max_examples=300, deadline=None)
@given(default=_EXPRESSIONS)
@example(default="now()")
@example(default="0")
@example(default="f(1, 2)")
def test_a_defaults_calls_are_those_its_whole_tree_holds(default: str) -> None:
    """The commonest defaults (a constant, a call without arguments) are not walked: what
    they call is what walking their tree finds."""
    import json

    from bgmigrate.parse.libpg_query import ParseError, parse_json
    from bgmigrate.parse.volatility import _calls, _default_calls

    try:
        tree = json.loads(parse_json(f"ALTER TABLE t ALTER COLUMN c SET DEFAULT {default}"))
    except ParseError:
        return
    command = tree["stmts"][0]["stmt"]["AlterTableStmt"]["cmds"][0]["AlterTableCmd"]
    expression = command["def"]
    assert _default_calls(expression) == list(_calls(expression))
