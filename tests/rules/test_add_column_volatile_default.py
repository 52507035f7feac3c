"""add-column-volatile-default beyond its examples: the message names the function."""

from __future__ import annotations

from bgmigrate.check.api import check_sql

RULE = "add-column-volatile-default"


def _finding(sql: str):
    [finding] = [
        f for f in check_sql("SET lock_timeout = '2s';\n" + sql).findings if f.rule == RULE
    ]
    return finding


def test_message_names_table_column_and_the_volatile_function() -> None:
    finding = _finding("ALTER TABLE users ADD COLUMN seed float8 DEFAULT 1 + random();")
    assert finding.message.startswith("Adding users.seed with DEFAULT 1 + random() rewrites users")
    assert "random() is VOLATILE" in finding.message


def test_unknown_function_is_assumed_volatile_and_the_suppression_is_explained() -> None:
    finding = _finding("ALTER TABLE users ADD COLUMN code text DEFAULT app.new_code();")
    assert "app.new_code() is not a built-in function" in finding.message
    assert "-- bgmigrate: ignore add-column-volatile-default" in finding.message


def test_serial_is_left_to_add_generated_column() -> None:
    result = check_sql("SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN n bigserial;")
    assert [f.rule for f in result.findings] == ["add-generated-column"]
