"""add-foreign-key-without-not-valid beyond its examples: an inline REFERENCES says whether
existing rows are checked, from the column's DEFAULT."""

from __future__ import annotations

from bgmigrate.check.api import check_sql


def _message(add: str) -> str:
    [finding] = check_sql(
        f"SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN {add};"
    ).findings
    assert finding.rule == "add-foreign-key-without-not-valid"
    return finding.message


def test_a_null_column_checks_nothing_but_queues_both_tables_while_it_waits() -> None:
    assert _message("user_id bigint REFERENCES users (id) DEFAULT NULL") == (
        "Adding orders.user_id with an inline REFERENCES users (id) locks users against all "
        "writes (INSERT, UPDATE, DELETE) (SHARE ROW EXCLUSIVE) and orders against all reads and "
        "writes (ACCESS EXCLUSIVE), and an inline REFERENCES cannot be NOT VALID: user_id is "
        "NULL in every existing row, so nothing is checked, but while the statement waits for "
        "both locks, every query on orders and every write to users queues behind it."
    )


def test_a_default_value_is_checked_on_every_row() -> None:
    assert _message("user_id bigint DEFAULT 1 REFERENCES users").endswith(
        "cannot be NOT VALID: with DEFAULT 1, every existing row is checked while both locks "
        "are held."
    )
