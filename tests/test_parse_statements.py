"""A unit's statements parsed in one libpg_query call give what parsing each alone gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgmigrate.parse.postgres import parse_statement, parse_statements
from bgmigrate.rules import CATALOG
from bgmigrate.source.sql import read_sql_unit
from bgmigrate.source.unit import Location, Statement

FIXTURES = Path(__file__).parent.parent / "fixtures"

# Statements that parse alone, some with non-ASCII text before or inside their locations.
_CLEAN = [
    "ALTER TABLE t ADD COLUMN c int DEFAULT 0 NOT NULL",
    "CREATE TABLE café (id bigint PRIMARY KEY, note text DEFAULT 'crème' CHECK (note <> ''))",
    "ALTER TABLE t ADD COLUMN ü text DEFAULT 'ï', ADD CONSTRAINT c CHECK (ü IS NOT NULL)",
    "CREATE INDEX i ON t (lower(name)) WHERE name <> 'é'",
    "CREATE UNIQUE INDEX CONCURRENTLY i ON t USING btree (a, b DESC)",
    "DO $$ BEGIN ALTER TABLE t DROP COLUMN c; UPDATE t SET a = 1; END $$",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
    "SET lock_timeout = '2s'",
    "BEGIN",
    "COMMIT",
    "SELECT set_config('lock_timeout', '1s', true)",
    "ALTER TABLE t ALTER COLUMN c SET DEFAULT now(), ALTER COLUMN d TYPE bigint USING d::bigint",
]
# Statements that do not parse alone as one statement starting at their first character.
_AWKWARD = [
    "SELECT 1; SELECT 2",  # two in one
    "ALTER TABLE t ADD COLUMN",  # a syntax error
    "SELECT 'unterminated",
    "/* a comment first */ SELECT 1",
    "SELECT 1 -- a comment last",
    "",
    "-- only a comment",
    "SELECT 1;",
    "SELECT '\udcff'",  # a lone surrogate: not UTF-8 at all
]


def _statements(sqls: list[str]) -> list[Statement]:
    return [
        Statement(sql, "m.sql", Location(index + 1, 3, index + 1, 3 + len(sql)), index)
        for index, sql in enumerate(sqls)
    ]


def _each_alone(statements: list[Statement]) -> list[list[object]]:
    return [parse_statement(statement) for statement in statements]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_CLEAN + _AWKWARD), max_size=8))
def test_parsed_together_as_each_alone(sqls: list[str]) -> None:
    statements = _statements(sqls)
    assert parse_statements(statements) == _each_alone(statements)


def test_the_locations_of_later_statements_count_from_their_own_start() -> None:
    """Spans inside a statement (an ALTER TABLE's actions, a DEFAULT's text) come from its
    tree's locations, which count from the start of the joined text."""
    statements = _statements(_CLEAN)
    together = parse_statements(statements)
    assert together == _each_alone(statements)
    actions = together[2]
    assert [op.location.column for op in actions] == [17, 48]


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.rglob("*.sql")), ids=lambda path: str(path.relative_to(FIXTURES))
)
def test_every_fixture_file_parses_together_as_each_statement_alone(path: Path) -> None:
    unit = read_sql_unit(path.name, path.read_text(encoding="utf-8", errors="replace"))
    assert parse_statements(unit.statements) == _each_alone(unit.statements)


def test_every_rule_example_parses_together_as_each_statement_alone() -> None:
    for rule in CATALOG.values():
        for example in (*rule.flagged, *rule.passing):
            if example.language != "sql":
                continue
            for text in (example.before, example.sql):
                unit = read_sql_unit("example.sql", text)
                assert parse_statements(unit.statements) == _each_alone(unit.statements)


def test_a_file_with_a_syntax_error_is_parsed_statement_by_statement() -> None:
    """The joined text does not parse: each statement is parsed alone, and only the broken
    one is a syntax error, located at its own error."""
    unit = read_sql_unit(
        "m.sql",
        "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN;\nCREATE INDEX i ON t (a);\n",
    )
    first, broken, last = parse_statements(unit.statements)
    assert [type(op).__name__ for op in (*first, *broken, *last)] == [
        "AddColumn",
        "SyntaxErrorOp",
        "CreateIndex",
    ]
    assert broken[0].location.line == 2
    assert [first, broken, last] == _each_alone(unit.statements)
