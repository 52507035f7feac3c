"""set-not-null beyond its examples: the advised recipe, with the statement's real names,
passes the check."""

from __future__ import annotations

from bgmigrate.check.api import check_sql


def test_recipe_names_table_column_and_constraint() -> None:
    [finding] = check_sql(
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN shipped_at SET NOT NULL;"
    ).findings
    lines = finding.safe_alternative.splitlines()
    assert lines[0] == "bgmigrate plan set-not-null orders.shipped_at"
    assert lines[2:] == [
        "ALTER TABLE orders ADD CONSTRAINT orders_shipped_at_not_null "
        "CHECK (shipped_at IS NOT NULL) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_shipped_at_not_null;",
        "ALTER TABLE orders ALTER COLUMN shipped_at SET NOT NULL;",
        "ALTER TABLE orders DROP CONSTRAINT orders_shipped_at_not_null;",
    ]


def test_advised_recipe_passes_check() -> None:
    [finding] = check_sql(
        "SET lock_timeout = '2s';\nALTER TABLE \"user\" ALTER COLUMN email SET NOT NULL;"
    ).findings
    recipe = "\n".join(finding.safe_alternative.splitlines()[2:])
    assert 'ALTER TABLE "user"' in recipe
    result = check_sql("SET lock_timeout = '2s';\n" + recipe)
    assert [(f.rule, f.message) for f in result.findings] == []


def test_validated_check_in_an_earlier_transaction_of_the_same_unit_counts() -> None:
    sql = (
        "SET lock_timeout = '2s';\n"
        "BEGIN;\n"
        "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n"
        "COMMIT;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
    )
    assert [f.rule for f in check_sql(sql).findings] == []


def test_foreign_tables_and_domains_are_not_scanned_by_set_not_null() -> None:
    sql = (
        "SET lock_timeout = '2s';\nALTER DOMAIN positive SET NOT NULL;\n"
        "ALTER FOREIGN TABLE remote ALTER COLUMN c SET NOT NULL;\n"
        "ALTER FOREIGN TABLE remote ADD COLUMN at timestamptz DEFAULT clock_timestamp();\n"
        "ALTER FOREIGN TABLE remote ALTER COLUMN c TYPE bigint;\n"
        "ALTER FOREIGN TABLE remote ADD CONSTRAINT c_positive CHECK (c > 0);"
    )
    assert check_sql(sql).findings == []


def test_a_column_dropped_from_a_foreign_table_still_breaks_the_old_version() -> None:
    sql = "SET lock_timeout = '2s';\nALTER FOREIGN TABLE remote DROP COLUMN c;"
    assert [f.rule for f in check_sql(sql).findings] == ["drop-column"]
