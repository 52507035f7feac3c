"""The lock facts behind `data-change-holding-lock`, read from PostgreSQL's pg_locks: a foreign
key's referenced table stays locked SHARE ROW EXCLUSIVE until COMMIT, through a later copy."""

from __future__ import annotations

import psycopg
import pytest

from bgmigrate.check.api import check_sql

_BEFORE = (
    "CREATE TABLE users (id bigint PRIMARY KEY, bio text);\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n"
    "INSERT INTO users SELECT g, 'b' FROM generate_series(1, 10) g;\n"
    "INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;"
)
_COPY = "INSERT INTO user_bios (user_id, bio) SELECT id, bio FROM users;"


@pytest.mark.parametrize(
    "takes_the_lock",
    [
        "CREATE TABLE user_profiles (user_id bigint PRIMARY KEY REFERENCES users (id));",
        "ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES users (id);",
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
        "REFERENCES users (id) NOT VALID;",
    ],
)
def test_the_referenced_table_is_locked_against_writes_through_the_copy(
    fresh_db: str, takes_the_lock: str
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute(_BEFORE.encode())
        connection.execute(b"CREATE TABLE user_bios (user_id bigint, bio text)")
        connection.execute(b"BEGIN")
        connection.execute(takes_the_lock.encode())
        connection.execute(_COPY.encode())
        held = connection.execute(
            "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted "
            "AND relation = 'users'::regclass ORDER BY mode"
        ).fetchall()
        connection.execute(b"COMMIT")
        after = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = 'users'::regclass"
        ).fetchone()
    assert ("ShareRowExclusiveLock",) in held
    assert after == (0,)

    findings = check_sql(
        f"BEGIN;\nSET LOCAL lock_timeout = '2s';\n{takes_the_lock}\n{_COPY}\nCOMMIT;",
        before=_BEFORE + "\nCREATE TABLE user_bios (user_id bigint, bio text);",
    ).findings
    held_by_copy = [
        (f.location.line, f.message.split(" in this transaction")[0])
        for f in findings
        if f.rule == "data-change-holding-lock"
    ]
    assert (4, "INSERT INTO user_bios … SELECT runs while users is locked SHARE ROW EXCLUSIVE") in (
        held_by_copy
    )
