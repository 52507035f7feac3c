"""The safe alternatives of the locking and rewrite rules: statement-specific SQL that, pasted
as a migration, passes the check itself."""

from __future__ import annotations

import pytest

from bgmigrate.check.api import check_sql
from bgmigrate.parse.operations import Name
from bgmigrate.rules.recipes import identifier, qualified

TIMEOUT = "SET lock_timeout = '2s';\n"


def _advice(sql: str, rule: str, *, pg_version: int = 16) -> str:
    [finding] = [f for f in check_sql(sql, pg_version=pg_version).findings if f.rule == rule]
    return finding.safe_alternative


def _pasteable(advice: str) -> str:
    """The advice's SQL statements: without comments and without shell commands."""
    return "\n".join(
        line
        for line in advice.splitlines()
        if not line.startswith(("--", "bgmigrate ", "pg_repack "))
    )


@pytest.mark.parametrize(
    ("rule", "statement", "pg_version"),
    [
        ("create-index-non-concurrently", "CREATE INDEX users_email_idx ON users (email);", 16),
        (
            "create-index-non-concurrently",
            "CREATE UNIQUE INDEX ON orders USING btree (lower(code)) WHERE deleted_at IS NULL;",
            16,
        ),
        ("drop-index-non-concurrently", "DROP INDEX users_email_idx, users_name_idx;", 16),
        (
            "add-foreign-key-without-not-valid",
            "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;",
            16,
        ),
        (
            "add-foreign-key-without-not-valid",
            "ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);",
            16,
        ),
        (
            "add-check-constraint-without-not-valid",
            "ALTER TABLE orders ADD COLUMN total numeric, ADD CHECK (total >= 0);",
            16,
        ),
        (
            "add-check-constraint-without-not-valid",
            "ALTER TABLE orders ADD COLUMN quantity int CHECK (quantity > 0);",
            16,
        ),
        (
            "add-unique-constraint-without-index",
            'ALTER TABLE "user" ADD CONSTRAINT user_email_key UNIQUE (email);',
            16,
        ),
        (
            "add-unique-constraint-without-index",
            "ALTER TABLE users ADD COLUMN handle text UNIQUE;",
            16,
        ),
        (
            "add-column-volatile-default",
            "ALTER TABLE users ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
            16,
        ),
        (
            "add-column-with-default-pre-pg11",
            "ALTER TABLE users ADD COLUMN status text DEFAULT 'new';",
            10,
        ),
        (
            "add-column-with-default-pre-pg11",
            "ALTER TABLE users ADD COLUMN note text DEFAULT NULL;",
            10,
        ),
        ("add-generated-column", "ALTER TABLE billing.orders ADD COLUMN number bigserial;", 16),
        (
            "add-generated-column",
            "ALTER TABLE orders ADD COLUMN cents bigint GENERATED ALWAYS AS (total * 100) STORED;",
            16,
        ),
        ("table-rewrite", "VACUUM FULL users;", 16),
    ],
)
def test_advised_sql_passes_check(rule: str, statement: str, pg_version: int) -> None:
    advice = _advice(TIMEOUT + statement, rule, pg_version=pg_version)
    advised = _pasteable(advice)
    assert advised.strip(), advice
    result = check_sql(TIMEOUT + advised, pg_version=pg_version)
    assert [(f.rule, f.message) for f in result.findings] == []


def test_advice_keeps_the_clauses_of_one_action_of_a_multi_action_alter_table() -> None:
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE orders\n"
        "  ADD COLUMN shop_id bigint,\n"
        "  ADD FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE SET NULL;"
    )
    advice = _advice(sql, "add-foreign-key-without-not-valid")
    assert (
        "ALTER TABLE orders ADD CONSTRAINT orders_shop_id_fkey FOREIGN KEY (shop_id) "
        "REFERENCES shops (id) ON DELETE SET NULL NOT VALID;"
    ) in advice.splitlines()
    assert "ALTER TABLE orders VALIDATE CONSTRAINT orders_shop_id_fkey;" in advice.splitlines()


def test_identifiers_that_need_quotes_are_quoted() -> None:
    assert identifier("user") == '"user"'
    assert identifier("Users") == '"Users"'
    assert identifier("users") == "users"
    assert qualified(Name("order", "Billing")) == '"Billing"."order"'


def test_backfill_expression_is_quoted_for_the_shell() -> None:
    advice = _advice(
        TIMEOUT + "ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'new';",
        "add-column-with-default-pre-pg11",
        pg_version=10,
    )
    assert advice.splitlines()[0] == (
        "bgmigrate plan add-column users.status text --not-null --backfill \"'new'\""
    )
