"""validate-in-same-transaction beyond its examples: the message names the add and its locks."""

from __future__ import annotations

from bgmigrate.check.api import check_sql

RULE = "validate-in-same-transaction"


def test_foreign_key_validation_names_both_locked_tables_and_the_add_line() -> None:
    sql = (
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey\n"
        "  FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;\n"
        "COMMIT;"
    )
    [finding] = [f for f in check_sql(sql).findings if f.rule == RULE]
    assert "NOT VALID on line 3" in finding.message
    assert "SHARE ROW EXCLUSIVE locks on orders and users" in finding.message
    assert finding.safe_alternative.splitlines()[-1] == (
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;"
    )


def test_a_constraint_added_not_valid_in_another_block_of_the_unit_passes() -> None:
    sql = (
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0) NOT VALID;\nCOMMIT;\n"
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE orders ADD CONSTRAINT d CHECK (total < 100) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT c;\nCOMMIT;"
    )
    assert [f.rule for f in check_sql(sql).findings] == []
