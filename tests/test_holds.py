"""Locks already held in the transaction: one finding per table and transaction, naming the
statements that took the lock."""

from __future__ import annotations

from bgmigrate.check.api import check_sql


def _findings(sql: str) -> list[tuple[str, int, str]]:
    return [(f.rule, f.location.line, f.message) for f in check_sql(sql).findings]


def test_an_index_built_after_an_exclusive_lock_names_the_statement_that_took_it() -> None:
    found = _findings(
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
        "CREATE INDEX users_nickname_idx ON users (nickname);\n"
        "COMMIT;"
    )
    assert found == [
        (
            "create-index-non-concurrently",
            4,
            "CREATE INDEX users_nickname_idx on users (nickname) takes a SHARE lock on users: "
            "it blocks all writes (INSERT, UPDATE, DELETE) to users, from both app versions, "
            "for the whole index build, a full scan of the table. users is already locked "
            "ACCESS EXCLUSIVE in this transaction, by line 3 (ALTER TABLE users ADD COLUMN "
            "nickname text): this statement's own lock adds nothing to that one, but keeps it "
            "held for its whole duration, and all reads and writes on users wait until the "
            "transaction ends. Reported once per table and transaction: move the long "
            "statements to a migration of their own.",
        )
    ]


def test_later_long_statements_on_the_same_table_and_transaction_are_not_reported_again() -> None:
    found = _findings(
        "BEGIN;\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
        "CREATE INDEX users_nickname_idx ON users (nickname);\n"
        "CREATE INDEX users_email_idx ON users (email);\n"
        "ALTER TABLE users ADD CONSTRAINT nick_len CHECK (length(nickname) < 40);\n"
        "CREATE INDEX orders_user_idx ON orders (user_id);\n"
        "COMMIT;\n"
        "CREATE INDEX users_name_idx ON users (name);"
    )
    assert [(rule, line) for rule, line, _ in found] == [
        ("create-index-non-concurrently", 4),
        # Another table: a finding of its own, with no lock held before it.
        ("create-index-non-concurrently", 7),
        # Outside the transaction: its own lock, its own finding.
        ("create-index-non-concurrently", 9),
    ]
    assert "already locked" not in found[1][2] and "already locked" not in found[2][2]


def test_the_statements_of_a_do_block_share_one_transaction() -> None:
    found = _findings(
        "SET lock_timeout = '2s';\n"
        "DO $$\n"
        "BEGIN\n"
        "  ALTER TABLE users ADD COLUMN nickname text;\n"
        "  CREATE INDEX users_nickname_idx ON users (nickname);\n"
        "END $$;"
    )
    assert [(rule, line) for rule, line, _ in found] == [("create-index-non-concurrently", 5)]
    assert "by line 4 (ALTER TABLE users ADD COLUMN nickname text)" in found[0][2]


def test_a_first_long_statement_is_reported_as_before_without_a_note() -> None:
    found = _findings(
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nCREATE INDEX a_idx ON users (a);\n"
        "CREATE INDEX b_idx ON users (b);\nCOMMIT;"
    )
    assert [(rule, line) for rule, line, _ in found] == [("create-index-non-concurrently", 3)]
    assert "already locked" not in found[0][2]


def test_an_earlier_action_of_the_same_statement_is_its_own_lock() -> None:
    found = _findings(
        "SET lock_timeout = '2s';\nBEGIN;\n"
        "ALTER TABLE tags DROP COLUMN id, ADD PRIMARY KEY (name);\nCOMMIT;"
    )
    [unique] = [
        message for rule, _, message in found if rule == "add-unique-constraint-without-index"
    ]
    assert "already locked" not in unique


def test_a_drop_index_holds_its_tables_lock_when_the_run_created_the_index() -> None:
    result = check_sql(
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nDROP INDEX users_email_idx;\n"
        "CREATE INDEX users_email_lower_idx ON users (lower(email));\nCOMMIT;",
        before="CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
        "CREATE INDEX users_email_idx ON users (email);",
    )
    [build] = [f for f in result.findings if f.rule == "create-index-non-concurrently"]
    assert (
        "users is already locked ACCESS EXCLUSIVE in this transaction, by line 3 (DROP INDEX "
        in (build.message)
    )


_SPLIT = (
    "BEGIN;\n"
    "SET LOCAL lock_timeout = '2s';\n"
    "CREATE TABLE user_profiles (user_id bigint PRIMARY KEY REFERENCES users (id), bio text);\n"
    "INSERT INTO user_profiles (user_id, bio) SELECT id, bio FROM users;\n"
    "UPDATE user_profiles SET bio = trim(bio);\n"
    "COMMIT;"
)


def test_a_copy_after_a_foreign_key_to_an_existing_table_is_reported_once() -> None:
    assert _findings(_SPLIT) == [
        (
            "data-change-holding-lock",
            4,
            "INSERT INTO user_profiles … SELECT runs while users is locked SHARE ROW EXCLUSIVE "
            "in this transaction, by line 3 (CREATE TABLE user_profiles (user_id bigint PRIMARY "
            "KEY RE…). Locks are held until COMMIT: all writes (INSERT, UPDATE, DELETE) on "
            "users, from both app versions, wait for the whole data change, as long as the rows "
            "it reads and writes take. Reported once per table and transaction.",
        )
    ]


def test_a_foreign_key_to_a_table_new_in_the_unit_holds_nothing_anyone_waits_for() -> None:
    assert (
        _findings("BEGIN;\nCREATE TABLE users (id bigint PRIMARY KEY, bio text);\n" + _SPLIT[7:])
        == []
    )


def test_each_table_a_foreign_key_locks_is_named_once_at_the_first_data_change() -> None:
    found = _findings(
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES users (id);\n"
        "ALTER TABLE orders ADD CONSTRAINT seller_fk FOREIGN KEY (seller_id) "
        "REFERENCES sellers (id) NOT VALID;\n"
        "DELETE FROM order_notes WHERE note = '';\n"
        "COMMIT;"
    )
    held = [
        (rule, line, message.split(" in this transaction, by ")[0])
        for rule, line, message in found
        if rule == "data-change-holding-lock"
    ]
    # orders' hold already has its finding: line 3's own validation scan under it.
    assert held == [
        ("data-change-holding-lock", 5, f"DELETE FROM order_notes runs while {locked}")
        for locked in (
            "users is locked SHARE ROW EXCLUSIVE",
            "sellers is locked SHARE ROW EXCLUSIVE",
        )
    ]
    assert [rule for rule, line, _ in found if line == 3] == ["add-foreign-key-without-not-valid"]
    assert "by line 4 (ALTER TABLE orders ADD CONSTRAINT seller_fk FOREIGN KEY (…)." in found[2][2]


def test_a_table_whose_long_hold_is_already_reported_is_not_reported_again() -> None:
    found = _findings(_SPLIT.replace("INSERT", "CREATE INDEX users_bio ON users (bio);\nINSERT"))
    assert [(rule, line) for rule, line, _ in found] == [("create-index-non-concurrently", 4)]
    assert (
        "users is already locked SHARE ROW EXCLUSIVE in this transaction, by line 3"
        in (found[0][2])
    )


def test_the_safe_alternative_commits_after_the_last_statement_that_took_the_lock() -> None:
    found = check_sql(
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE orders ADD CONSTRAINT a_fk FOREIGN KEY (a_id) REFERENCES users (id) "
        "NOT VALID;\n"
        "ALTER TABLE invoices ADD CONSTRAINT b_fk FOREIGN KEY (b_id) REFERENCES users (id) "
        "NOT VALID;\n"
        "INSERT INTO user_copies (id) SELECT id FROM users;\n"
        "COMMIT;"
    ).findings
    users = [f for f in found if "while users is locked" in f.message]
    assert [(f.rule, f.location.line) for f in users] == [("data-change-holding-lock", 5)]
    assert "by line 3 (ALTER TABLE orders ADD CONSTRAINT a_fk FOREIGN KEY (a_id)…) and line 4" in (
        users[0].message
    )
    assert users[0].safe_alternative.startswith(
        "COMMIT after line 4 and run the data change in a transaction of its own"
    )
