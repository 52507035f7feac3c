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


def _set_not_null_message(sql: str, before: str = "") -> str:
    [finding] = [f for f in check_sql(sql, before=before).findings if f.rule == "set-not-null"]
    return finding.message


def test_after_a_set_default_only_explicit_nulls_fail() -> None:
    message = _set_not_null_message(
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';\n"
        "ALTER TABLE users ALTER COLUMN status SET NOT NULL;",
        before="CREATE TABLE users (id bigint PRIMARY KEY, status text);",
    )
    assert message == (
        "SET NOT NULL on users.status scans all of users under an ACCESS EXCLUSIVE lock: the "
        "version still running (blue) cannot read or write users during the scan, and "
        "afterwards only its writes of an explicit NULL to status fail (INSERTs that leave it "
        "out get its DEFAULT 'active'). No validated CHECK (status IS NOT NULL) precedes it in "
        "this run."
    )


def test_without_a_default_inserts_that_leave_the_column_out_fail() -> None:
    message = _set_not_null_message(
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN status SET NOT NULL;",
        before="CREATE TABLE users (id bigint PRIMARY KEY, status text DEFAULT 'a');\n"
        "ALTER TABLE users ALTER COLUMN status DROP DEFAULT;",
    )
    assert (
        "afterwards its writes of NULL to status fail, and so do its INSERTs that leave it out."
        in message
    )


def test_an_unknown_column_gets_the_conditional_sentence() -> None:
    message = _set_not_null_message(
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN status SET NOT NULL;"
    )
    assert "so do its INSERTs that leave it out unless the column has a DEFAULT." in message


def test_a_default_set_in_the_same_statement_or_transaction_counts() -> None:
    before = "CREATE TABLE workers (id bigint PRIMARY KEY, max_runs int);"
    same_statement = _set_not_null_message(
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE workers ALTER COLUMN max_runs SET NOT NULL,\n"
        "  ALTER COLUMN max_runs SET DEFAULT 100;",
        before=before,
    )
    assert (
        "only its writes of an explicit NULL to max_runs fail (INSERTs that leave it out "
        "get its DEFAULT 100)"
    ) in same_statement
    same_transaction = _set_not_null_message(
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE workers ALTER COLUMN max_runs SET NOT NULL;\n"
        "ALTER TABLE workers ALTER COLUMN max_runs SET DEFAULT 100;\nCOMMIT;",
        before=before,
    )
    assert "get its DEFAULT 100)" in same_transaction
    # In autocommit the old version sees the column NOT NULL before the default lands.
    later = _set_not_null_message(
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE workers ALTER COLUMN max_runs SET NOT NULL;\n"
        "ALTER TABLE workers ALTER COLUMN max_runs SET DEFAULT 100;",
        before=before,
    )
    assert "and so do its INSERTs that leave it out." in later
