"""`bgmigrate trace` against a real PostgreSQL: what each statement locks, rewrites and scans,
and which of the app's queries it breaks, as the server reports it."""

from __future__ import annotations

import pytest

from .tracing import HISTORY, only, table_locks, trace


def test_a_plain_index_takes_share_and_scans_the_table(fresh_db, tmp_path):
    traced = only(trace(fresh_db, tmp_path, "CREATE INDEX users_n ON users (n);"))
    assert table_locks(traced) == {"public.users": "ShareLock"}
    assert traced.rewritten == ()
    assert traced.scanned == ("public.users",)


def test_a_concurrent_index_takes_share_update_exclusive_in_autocommit(fresh_db, tmp_path):
    traced = only(trace(fresh_db, tmp_path, "CREATE INDEX CONCURRENTLY users_n ON users (n);"))
    assert table_locks(traced) == {"public.users": "ShareUpdateExclusiveLock"}
    assert traced.rewritten == ()
    assert traced.scanned == ("public.users",)


def test_drop_index_concurrently_is_seen_while_it_waits(fresh_db, tmp_path):
    history = HISTORY + "CREATE INDEX users_n ON users (n);"
    traced = only(trace(fresh_db, tmp_path, "DROP INDEX CONCURRENTLY users_n;", history=history))
    # The index is locked SHARE UPDATE EXCLUSIVE, and ACCESS EXCLUSIVE in the last step, once
    # it is dead: that step is seen when a poll falls in it.
    locks = {lock.relation: lock.mode for lock in traced.locks}
    assert locks.pop("public.users") == "ShareUpdateExclusiveLock"
    assert locks.pop("public.users_n") in ("ShareUpdateExclusiveLock", "AccessExclusiveLock")
    assert locks == {}


@pytest.mark.parametrize(
    ("column", "rewritten"),
    [
        ("a integer", ()),
        ("a integer DEFAULT 5", ()),
        ("a timestamptz DEFAULT clock_timestamp()", ("public.users", "public.users_pkey")),
    ],
)
def test_add_column_rewrites_only_with_a_volatile_default(fresh_db, tmp_path, column, rewritten):
    traced = only(trace(fresh_db, tmp_path, f"ALTER TABLE users ADD COLUMN {column};"))
    assert table_locks(traced) == {"public.users": "AccessExclusiveLock"}
    assert traced.rewritten == rewritten
    assert traced.scanned == (("public.users",) if rewritten else ())


def test_int_to_bigint_rewrites_and_widening_a_varchar_does_not(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE users ALTER COLUMN n TYPE bigint;\n"
        "ALTER TABLE users ALTER COLUMN v TYPE varchar(200);",
    )
    to_bigint, widened = result.statements
    assert to_bigint.rewritten == ("public.users", "public.users_pkey")
    assert table_locks(to_bigint) == {"public.users": "AccessExclusiveLock"}
    assert widened.rewritten == () and widened.scanned == ()
    assert table_locks(widened) == {"public.users": "AccessExclusiveLock"}


def test_a_validated_foreign_key_scans_and_a_not_valid_one_does_not(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE orders ADD CONSTRAINT fk1 FOREIGN KEY (user_id) REFERENCES users (id);\n"
        "ALTER TABLE orders ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id) "
        "NOT VALID;",
    )
    validated, not_valid = result.statements
    both = {"public.orders": "ShareRowExclusiveLock", "public.users": "ShareRowExclusiveLock"}
    assert table_locks(validated) == both
    assert "public.orders" in validated.scanned
    assert table_locks(not_valid) == both
    assert not_valid.scanned == () and not_valid.rewritten == ()


def test_set_not_null_scans_unless_a_validated_check_proves_it(fresh_db, tmp_path):
    unproven = only(trace(fresh_db, tmp_path, "ALTER TABLE users ALTER COLUMN n SET NOT NULL;"))
    assert table_locks(unproven) == {"public.users": "AccessExclusiveLock"}
    assert unproven.scanned == ("public.users",)


def test_set_not_null_after_a_validated_check_scans_nothing(fresh_db, tmp_path):
    history = HISTORY + "ALTER TABLE users ADD CONSTRAINT n_nn CHECK (n IS NOT NULL);"
    proven = only(
        trace(fresh_db, tmp_path, "ALTER TABLE users ALTER COLUMN n SET NOT NULL;", history=history)
    )
    assert table_locks(proven) == {"public.users": "AccessExclusiveLock"}
    assert proven.scanned == ()


def test_a_rename_and_a_drop_break_the_old_queries_at_their_statements(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users RENAME COLUMN email TO email_address;\n"
        "ALTER TABLE users DROP COLUMN v;",
        old=(
            "SELECT email FROM users WHERE id = $1",
            "UPDATE users SET v = $1 WHERE id = $2",
            "SELECT id FROM users WHERE n = $1",
        ),
    )
    assert [(f.rule, f.location.line) for f in result.findings] == [
        ("old-version-query-fails", 2),
        ("old-version-query-fails", 3),
    ]
    assert "`SELECT email FROM users WHERE id = $1` (old.sql:1)" in result.findings[0].message
    assert 'column "email" does not exist' in result.findings[0].message
    assert 'column "v" of relation "users" does not exist' in result.findings[1].message


def test_a_not_null_column_on_an_empty_table_breaks_the_old_insert(fresh_db, tmp_path):
    history = "CREATE TABLE accounts (id bigint PRIMARY KEY, name text);"
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE accounts ADD COLUMN region text NOT NULL;",
        history=history,
        old=("INSERT INTO accounts (id, name) VALUES ($1, $2)",),
    )
    assert result.statements[0].error is None
    [finding] = result.findings
    assert finding.rule == "old-version-query-fails"
    assert 'null value in column "region"' in finding.message


def test_a_query_that_already_failed_before_is_not_blamed(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE users DROP COLUMN v;",
        old=("SELECT nothing FROM users", "INSERT INTO users (id) VALUES ($1)"),
    )
    assert result.findings == []


def test_the_new_versions_queries_must_work_after_the_migration(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE users ADD COLUMN phone text;",
        new=("SELECT phone FROM users WHERE id = $1", "SELECT fax FROM users"),
    )
    [finding] = result.findings
    assert (finding.rule, finding.path, finding.location.line) == (
        "new-version-query-fails",
        "new.sql",
        2,
    )
    assert 'column "fax" does not exist' in finding.message


def test_concurrently_inside_the_runners_transaction_fails_as_postgresql_says(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "CREATE INDEX CONCURRENTLY users_n ON users (n);\nALTER TABLE users DROP COLUMN v;",
        assume_in_transaction=True,
    )
    [failed] = result.statements
    assert failed.error is not None and failed.error.startswith("25001")
    assert "cannot run inside a transaction block" in failed.error


def test_a_block_holds_its_locks_and_a_rollback_undoes_it(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "BEGIN;\nCREATE TABLE extra (id int);\nALTER TABLE users DROP COLUMN v;\nROLLBACK;\n"
        "ALTER TABLE users DROP COLUMN v;",
        old=("SELECT v FROM users",),
    )
    assert [t.error for t in result.statements] == [None] * 5
    assert [f.location.line for f in result.findings] == [3]
    assert table_locks(result.statements[4]) == {"public.users": "AccessExclusiveLock"}


def test_the_history_rows_stay_and_a_failing_statement_stops_the_trace(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE users ADD COLUMN region text NOT NULL;\nALTER TABLE users DROP COLUMN v;",
    )
    [failed] = result.statements
    assert failed.error is not None and failed.error.startswith("23502")


def test_a_session_trace_resolves_names_by_the_session_and_counts_its_tables_as_existing(
    fresh_db,
):
    import psycopg

    from bgmigrate.source import read_sql_unit
    from bgmigrate.trace import trace_in_session

    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute(
            "CREATE SCHEMA app; SET search_path = app; CREATE TABLE t (id int); "
            "INSERT INTO t VALUES (1)"
        )
        unit = read_sql_unit("m.sql", "ALTER TABLE t ADD COLUMN r float8 DEFAULT random();")
        traced = only(trace_in_session(connection, fresh_db, [unit]))
        still_there = connection.execute("SELECT r IS NOT NULL FROM t").fetchone()
    assert table_locks(traced) == {"app.t": "AccessExclusiveLock"}
    assert traced.rewritten == ("app.t",)
    assert still_there == (True,)
