"""Liquibase: the master changelog's order, changesets as their own transactions, XML/YAML
changes rendered as SQL at their elements, formatted SQL, rollbacks and other dbms skipped."""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from bgmigrate.check.report.json_report import render
from bgmigrate.check.result import CheckResult
from bgmigrate.rules import CATALOG
from bgmigrate.source.layouts.base import Transaction
from bgmigrate.source.layouts.liquibase.attributes import (
    context_engine,
    other_dbms,
    transaction_mode,
)
from bgmigrate.source.layouts.liquibase.render import render_change
from bgmigrate.source.layouts.liquibase.tree import ChangelogError, read_changelog_tree

from .checking import LAYOUTS, check_directory, check_layout

C = "src/main/resources/db/changelog"


def test_master_changelog_order_with_sql_file_targets_after_their_changelog() -> None:
    checked = check_layout("liquibase")
    assert checked.result.layouts == [(C, "liquibase")]
    assert checked.units == [
        f"{C}/changes/001-create-customers.xml",
        f"{C}/scripts/backfill.sql",  # the <sqlFile> of changeset 7
        f"{C}/changes/002-orders.yaml",  # a classpath include, found under src/main/resources
        f"{C}/changes/003-engines.xml",
        f"{C}/sql/003-index-email.sql",  # includeAll, alphabetical
        f"{C}/sql/004-functions.sql",
    ]


def test_findings_point_at_the_change_elements_and_sql_lines() -> None:
    findings = [(f.rule, f.path, f.location.line, f.location.column) for f in _result().findings]
    assert findings == [
        # changeset 3 (runInTransaction="false") indexes concurrently without a finding;
        # changeset 4 runs in a transaction; `&lt;&gt;` reads as `<>`
        ("concurrently-in-transaction", f"{C}/changes/001-create-customers.xml", 42, 13),
        ("unbatched-backfill", f"{C}/scripts/backfill.sql", 1, 1),
        # addNotNullConstraint with defaultNullValue: UPDATE, then SET NOT NULL
        ("unbatched-backfill", f"{C}/changes/002-orders.yaml", 21, 11),
        ("require-lock-timeout", f"{C}/changes/002-orders.yaml", 21, 11),
        ("set-not-null", f"{C}/changes/002-orders.yaml", 21, 11),
        ("change-column-type", f"{C}/changes/002-orders.yaml", 33, 11),
        ("drop-column", f"{C}/changes/002-orders.yaml", 38, 11),  # suppressed by a # tag
        # a line of a YAML `sql: |` block, at its own line and column
        ("concurrently-in-transaction", f"{C}/changes/002-orders.yaml", 44, 15),
        # only the PostgreSQL changeset runs: an ADD COLUMN with a constant default
        ("require-lock-timeout", f"{C}/changes/003-engines.xml", 21, 9),  # suppressed
        ("require-lock-timeout", f"{C}/sql/003-index-email.sql", 10, 1),
        ("set-not-null", f"{C}/sql/003-index-email.sql", 10, 1),
        ("drop-index-non-concurrently", f"{C}/sql/003-index-email.sql", 17, 1),  # dbms:!h2
        # endDelimiter:/ splits the function from the index, neither a syntax error
        ("create-index-non-concurrently", f"{C}/sql/004-functions.sql", 11, 1),
        ("require-lock-timeout", f"{C}/sql/004-functions.sql", 11, 1),
        # runInTransaction:false with splitStatements:false: one query, one implicit transaction
        ("concurrently-in-transaction", f"{C}/sql/004-functions.sql", 15, 1),
        ("concurrently-in-transaction", f"{C}/sql/004-functions.sql", 16, 1),
    ]


def test_tags_in_xml_and_yaml_comments_suppress_findings_at_the_next_change() -> None:
    suppressed = [
        (f.rule, f.path, f.location.line, f.suppression_reason)
        for f in _result().findings
        if f.suppressed
    ]
    assert suppressed == [
        (
            "drop-column",
            f"{C}/changes/002-orders.yaml",
            38,
            "the app stopped reading status a release ago",
        ),
        ("require-lock-timeout", f"{C}/changes/003-engines.xml", 21, ""),
    ]


def test_concurrently_in_a_changeset_names_the_changeset_s_transaction() -> None:
    finding = next(f for f in _result().findings if f.rule == "concurrently-in-transaction")
    assert finding.message.startswith(
        "This statement runs in the transaction the migration tool wraps around this part of "
        "the file (it runs each part, e.g. each changeset, in a transaction of its own)"
    )


def test_rendered_statements_are_what_liquibase_sends() -> None:
    statements = {
        (f.location.line, f.rule): f.statement
        for f in _result().findings
        if f.path.endswith((".yaml", "001-create-customers.xml", "003-engines.xml"))
    }
    assert statements[(21, "unbatched-backfill")] == (
        "UPDATE customers SET phone_number = 'unknown' WHERE phone_number IS NULL"
    )
    assert statements[(21, "set-not-null")] == (
        "ALTER TABLE customers ALTER COLUMN phone_number SET NOT NULL"
    )
    assert statements[(33, "change-column-type")] == (
        "ALTER TABLE customers ALTER COLUMN email TYPE VARCHAR(100)"
    )
    assert "WHERE status <> 'active'" in statements[(42, "concurrently-in-transaction")]
    assert statements[(21, "require-lock-timeout")] == (
        "ALTER TABLE orders ADD placed_at TIMESTAMP(6) WITHOUT TIME ZONE DEFAULT now()"
    )


def test_rollbacks_preconditions_other_dbms_and_unrendered_changes_are_skipped() -> None:
    checked = check_layout("liquibase")
    assert checked.skipped == [
        (f"{C}/changes/900-test-data.xml", "ignored", None),  # included with context="@test"
        (f"{C}/changes/001-create-customers.xml", "rollback", 18),
        (f"{C}/changes/001-create-customers.xml", "rollback", 45),
        (f"{C}/changes/001-create-customers.xml", "other-engine", 48),  # dbms="mysql"
        (f"{C}/changes/002-orders.yaml", "rollback", 25),
        (f"{C}/changes/002-orders.yaml", "not-sql", 45),  # loadData
        (f"{C}/changes/003-engines.xml", "other-engine", 8),  # <dbms type="mssql"/> precondition
        (f"{C}/changes/003-engines.xml", "other-engine", 15),  # context="mysql"
        (f"{C}/changes/003-engines.xml", "precondition", 26),  # only while orders is empty
        (f"{C}/changes/003-engines.xml", "other-engine", 34),  # backtick-quoted identifiers
        (f"{C}/sql/003-index-email.sql", "rollback", 6),
        (f"{C}/sql/003-index-email.sql", "precondition", 9),
        (f"{C}/sql/003-index-email.sql", "rollback", 11),
        (f"{C}/sql/003-index-email.sql", "other-engine", 13),  # dbms:mysql
        (f"{C}/sql/003-index-email.sql", "ignored", 19),  # context:@test
        (f"{C}/sql/003-index-email.sql", "precondition", 22),  # only while customers is empty
        (f"{C}/sql/004-functions.sql", "rollback", 17),  # /* liquibase rollback */
    ]


def test_the_json_report_of_every_skipped_reason_validates_against_the_schema() -> None:
    schema_file = files("bgmigrate.check.report").joinpath("check-result.schema.json")
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text("utf-8")))
    report = json.loads(render(_result(), CATALOG, color=False))
    validator.validate(report)
    assert {s["reason"] for s in report["skipped"]} == {
        "rollback",
        "other-engine",
        "not-sql",
        "precondition",
        "ignored",
    }


def test_one_changelog_given_alone_is_read_as_its_directory_reads_it() -> None:
    checked = check_directory(LAYOUTS / "liquibase", f"{C}/sql/003-index-email.sql")
    assert checked.units == [f"{C}/sql/003-index-email.sql"]
    assert [(rule, line) for rule, _, line in checked.findings] == [
        ("require-lock-timeout", 10),
        ("set-not-null", 10),
        ("drop-index-non-concurrently", 17),
    ]


@pytest.mark.parametrize(
    ("dbms", "other"),
    [
        (None, False),
        ("postgresql", False),
        ("postgresql, h2", False),
        ("all", False),
        ("!mysql", False),
        ("!h2, !mysql", False),
        ("mysql", True),
        ("h2,oracle", True),
        ("!postgresql", True),
        ("none", True),
    ],
)
def test_dbms_keeps_postgresql_only_where_liquibase_does(dbms: str | None, other: bool) -> None:
    assert (other_dbms(dbms) is not None) is other


@pytest.mark.parametrize(
    ("context", "other"),
    [
        (None, False),
        ("postgresql", False),
        ("tenant_db AND !initial_switch", False),
        ("mysql or postgresql", False),
        ("!mysql", False),
        ("mysql", True),
        ("h2 or mariadb", True),
    ],
)
def test_a_context_naming_only_other_engines_keeps_a_changeset_off(
    context: str | None, other: bool
) -> None:
    assert (context_engine(context) is not None) is other


def test_transaction_modes() -> None:
    assert transaction_mode(None, None) is Transaction.WRAPPED
    assert transaction_mode("true", "false") is Transaction.WRAPPED
    assert transaction_mode("false", None) is Transaction.AUTOCOMMIT
    assert transaction_mode("false", "false") is Transaction.ONE_QUERY


@pytest.mark.parametrize(
    ("element", "statements"),
    [
        (
            '<addColumn tableName="t"><column name="c" type="int" defaultValueNumeric="0">'
            '<constraints nullable="false"/></column></addColumn>',
            ["ALTER TABLE t ADD c INT DEFAULT 0 NOT NULL"],
        ),
        (
            '<addForeignKeyConstraint baseTableName="orders" baseColumnNames="customer_id" '
            'constraintName="fk" referencedTableName="customers" referencedColumnNames="id" '
            'onDelete="CASCADE"/>',
            [
                "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) "
                "REFERENCES customers (id) ON DELETE CASCADE"
            ],
        ),
        (
            '<createIndex indexName="i" tableName="user"><column name="order"/></createIndex>',
            ['CREATE INDEX i ON "user"("order")'],
        ),
        (
            '<addUniqueConstraint tableName="t" columnNames="a, b" constraintName="u"/>',
            ["ALTER TABLE t ADD CONSTRAINT u UNIQUE (a, b)"],
        ),
        (
            '<renameTable oldTableName="a" newTableName="b" schemaName="s"/>',
            ["ALTER TABLE s.a RENAME TO b"],
        ),
        ('<dropTable tableName="t" cascadeConstraints="true"/>', ["DROP TABLE t CASCADE"]),
        (
            '<modifyDataType tableName="t" columnName="c" newDataType="datetime"/>',
            ["ALTER TABLE t ALTER COLUMN c TYPE TIMESTAMP WITHOUT TIME ZONE"],
        ),
        (
            '<insert tableName="t"><column name="c" value="it\'s"/>'
            '<column name="n" valueNumeric="1"/></insert>',
            ["INSERT INTO t (c, n) VALUES ('it''s', 1)"],
        ),
        (
            '<update tableName="t"><column name="c" valueBoolean="true"/>'
            "<where>c IS NULL</where></update>",
            ["UPDATE t SET c = true WHERE c IS NULL"],
        ),
        (
            "<createProcedure>CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ "
            "LANGUAGE sql;</createProcedure>",
            ["CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"],
        ),
        ('<loadData file="t.csv" tableName="t"/>', None),
    ],
)
def test_change_elements_render_as_postgresql_statements(
    element: str, statements: list[str] | None
) -> None:
    changeset = f"<changeSet id='1' author='a'>{element}</changeSet>"
    text = f"<databaseChangeLog>{changeset}</databaseChangeLog>"
    root = read_changelog_tree(text, ".xml")
    assert root is not None
    change = root.children[0].children[0]
    assert text[change.start : change.end] == element
    assert render_change(change) == statements


def test_positions_count_characters_past_non_ascii_text_and_entities() -> None:
    text = (
        "<databaseChangeLog><!-- é, ü --><changeSet id='ß' author='ø'>\n"
        "  <sql>UPDATE t SET a = 'ä' WHERE b &lt; 1;</sql>\n"
        "</changeSet></databaseChangeLog>"
    )
    root = read_changelog_tree(text, ".xml")
    assert root is not None
    sql = root.children[0].children[0]
    assert sql.text == "UPDATE t SET a = 'ä' WHERE b < 1;"
    assert text[sql.start : sql.end] == "<sql>UPDATE t SET a = 'ä' WHERE b &lt; 1;</sql>"
    assert [text[offset] for offset in sql.offsets[:8]] == list("UPDATE t")
    assert text[sql.offsets[sql.text.index("<")]] == "&"  # an entity stands where it is written


def test_a_json_changelog_reads_as_yaml_does() -> None:
    text = (
        '{"databaseChangeLog": [{"changeSet": {"id": "1", "author": "a", "changes": [\n'
        '  {"renameColumn": {"tableName": "t", "oldColumnName": "a", "newColumnName": "b"}}\n'
        "]}}]}"
    )
    root = read_changelog_tree(text, ".json")
    assert root is not None
    change = root.children[0].children[0]
    assert text[change.start : change.end].startswith('"renameColumn"')
    assert render_change(change) == ["ALTER TABLE t RENAME COLUMN a TO b"]


@pytest.mark.parametrize(
    ("text", "suffix", "line"),
    [
        ("<databaseChangeLog>\n  <changeSet id='1' author='a'>\n", ".xml", 3),
        ("databaseChangeLog:\n  - changeSet: [\n", ".yaml", 3),
    ],
)
def test_a_changelog_that_does_not_parse_says_where(text: str, suffix: str, line: int) -> None:
    with pytest.raises(ChangelogError) as raised:
        read_changelog_tree(text, suffix)
    assert raised.value.line == line


def test_a_changelog_that_does_not_parse_is_one_syntax_error_where_it_stops(
    tmp_path: Path,
) -> None:
    (tmp_path / "changelog.xml").write_text(
        "<databaseChangeLog>\n"
        "  <changeSet id='1' author='a'>\n"
        "    <dropTable tableName='t'/>\n"
        "  </changeset>\n"
        "</databaseChangeLog>\n"
    )
    checked = check_directory(tmp_path)
    assert checked.findings == [("syntax-error", "changelog.xml", 4)]
    assert checked.result.findings[0].message.startswith(
        "Liquibase cannot read this changelog (mismatched tag): the update stops here"
    )


@functools.cache
def _result() -> CheckResult:
    """The fixture's one check, shared by the tests that read it."""
    return check_layout("liquibase").result
