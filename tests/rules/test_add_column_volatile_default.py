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


def _function(name: str, volatility: str = "", *, replace: bool = False) -> str:
    create = "CREATE OR REPLACE" if replace else "CREATE"
    return (
        f"{create} FUNCTION {name} RETURNS text LANGUAGE plpgsql {volatility}\n"
        "  AS $$ BEGIN RETURN 'x'; END $$;\n"
    )


def test_a_function_declared_volatile_in_the_run_is_named_volatile() -> None:
    finding = _finding(
        _function("code()", "VOLATILE") + "ALTER TABLE users ADD COLUMN c text DEFAULT code();"
    )
    assert "code() is VOLATILE" in finding.message
    assert "suppress" not in finding.message


def test_a_volatile_overload_outweighs_a_stable_one() -> None:
    # Without OR REPLACE the second CREATE is another signature: the call may reach either.
    finding = _finding(
        _function("code()", "STABLE")
        + _function("code(n int)", "VOLATILE")
        + "ALTER TABLE users ADD COLUMN c text DEFAULT code();"
    )
    assert "code() is VOLATILE" in finding.message


def test_the_worst_of_declared_and_builtin_calls_counts() -> None:
    sql = (
        _function("code()", "IMMUTABLE")
        + "ALTER TABLE users ADD COLUMN c text DEFAULT code() || random();"
    )
    assert "random() is VOLATILE" in _finding(sql).message
    stable = (
        _function("code()", "IMMUTABLE")
        + "ALTER TABLE users ADD COLUMN c text DEFAULT code() || now();"
    )
    assert [f.rule for f in check_sql("SET lock_timeout = '2s';\n" + stable).findings] == []


def test_a_function_of_another_schema_is_not_the_one_declared() -> None:
    finding = _finding(
        _function("app.code()", "STABLE") + "ALTER TABLE users ADD COLUMN c text DEFAULT code();"
    )
    assert "code() is not a built-in function" in finding.message
    replaced = _function("code()", "STABLE") + _function("public.code()", replace=True)
    finding = _finding(replaced + "ALTER TABLE users ADD COLUMN c text DEFAULT code();")
    assert "code() is VOLATILE" in finding.message


def test_alter_function_redeclares_the_volatility() -> None:
    sql = _function("code()", "STABLE") + "ALTER FUNCTION code() VOLATILE;\n"
    finding = _finding(sql + "ALTER TABLE users ADD COLUMN c text DEFAULT code();")
    assert "code() is VOLATILE" in finding.message
    stable = _function("code()") + "ALTER FUNCTION code() STABLE;\n"
    stable += "ALTER TABLE users ADD COLUMN c text DEFAULT code();"
    assert [f.rule for f in check_sql("SET lock_timeout = '2s';\n" + stable).findings] == []
