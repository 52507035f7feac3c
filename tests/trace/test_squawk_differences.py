"""The traces behind bgmigrate's documented differences with squawk's rule tests
(docs/rules.md, "bgmigrate and squawk"): each SQL is squawk's own, run on PostgreSQL."""

from __future__ import annotations

from .tracing import only, table_locks, trace

HISTORY = """
CREATE TABLE core_recipe (id bigint PRIMARY KEY);
CREATE TABLE t (c text);
CREATE TABLE foo (bar bigint);
INSERT INTO core_recipe SELECT generate_series(1, 20);
INSERT INTO t SELECT 'x' FROM generate_series(1, 20);
"""


def test_a_constant_default_rewrites_nothing(fresh_db, tmp_path):
    traced = only(
        trace(
            fresh_db,
            tmp_path,
            'ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT 10;',
            history=HISTORY,
        )
    )
    assert traced.rewritten == () and traced.scanned == ()


def test_now_with_an_argument_is_no_function_postgresql_knows(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        'ALTER TABLE "core_recipe" ADD COLUMN "foo" timestamptz DEFAULT now(123);',
        history=HISTORY,
    )
    assert result.statements[0].error.startswith("42883 function now(integer) does not exist")


def test_a_validated_constraint_named_not_null_may_prove_nothing(fresh_db, tmp_path):
    # squawk passes the SET NOT NULL from the constraint's name; this one checks bar > 0.
    history = HISTORY + "ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar > 0) NOT VALID;"
    result = trace(
        fresh_db,
        tmp_path,
        "ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;\n"
        "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;",
        history=history,
    )
    assert result.statements[1].scanned == ("public.foo",)


def test_concurrently_in_the_runners_transaction_is_an_error(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "-- squawk-disable-assume-in-transaction\n"
        'CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "core_recipe" ("id");',
        history=HISTORY,
        assume_in_transaction=True,
    )
    assert "cannot run inside a transaction block" in result.statements[0].error


def test_truncate_replaces_the_tables_storage_the_old_version_reads(fresh_db, tmp_path):
    traced = only(trace(fresh_db, tmp_path, "TRUNCATE t;", history=HISTORY))
    assert table_locks(traced) == {"public.t": "AccessExclusiveLock"}
    assert traced.rewritten == ("public.t",)


def test_statements_squawk_wants_a_timeout_for_block_no_traffic(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n"
        "COMMENT ON COLUMN t.c IS 'an opaque id';\n"
        "VACUUM (FULL false) t;\n"
        "LOCK TABLE t IN ACCESS SHARE MODE;",
        history=HISTORY,
    )
    create_type, comment, vacuum, lock = result.statements
    assert create_type.locks == ()
    assert table_locks(comment) == {"public.t": "ShareUpdateExclusiveLock"}
    assert all(not lock.blocks for lock in vacuum.locks)
    assert table_locks(lock) == {"public.t": "AccessShareLock"}
    assert [lock.blocks for s in result.statements for lock in s.locks] == [""] * sum(
        len(s.locks) for s in result.statements
    )
