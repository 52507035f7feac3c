"""The PostgreSQL facts behind what the checker reads from earlier statements of the run
(docs/rules.md, "Verdicts proven by trace"): traced, `rewritten` is a table whose relfilenode
changed."""

from __future__ import annotations

from .tracing import only, trace

# PL/pgSQL: PostgreSQL inlines a simple SQL function's body, whose own volatility then counts.
STABLE_FUNCTION = (
    "CREATE FUNCTION default_plan() RETURNS text LANGUAGE plpgsql STABLE\n"
    "  AS $$ BEGIN RETURN 'free'; END $$;\n"
)
UNDECLARED_FUNCTION = STABLE_FUNCTION.replace(" STABLE", "")


def test_a_default_calling_a_function_created_stable_is_stored_once(fresh_db, tmp_path):
    traced = only(
        trace(
            fresh_db,
            tmp_path,
            STABLE_FUNCTION + "ALTER TABLE users ADD COLUMN plan text DEFAULT default_plan();",
        )
    )
    assert traced.rewritten == () and traced.scanned == ()


def test_a_function_created_without_a_volatility_clause_is_volatile(fresh_db, tmp_path):
    traced = only(
        trace(
            fresh_db,
            tmp_path,
            UNDECLARED_FUNCTION + "ALTER TABLE users ADD COLUMN plan text DEFAULT default_plan();",
        )
    )
    assert traced.rewritten == ("public.users", "public.users_pkey")


def test_create_or_replace_changes_the_volatility(fresh_db, tmp_path):
    traced = only(
        trace(
            fresh_db,
            tmp_path,
            UNDECLARED_FUNCTION
            + STABLE_FUNCTION.replace("CREATE", "CREATE OR REPLACE")
            + "ALTER TABLE users ADD COLUMN plan text DEFAULT default_plan();",
        )
    )
    assert traced.rewritten == ()


def test_alter_function_changes_the_volatility(fresh_db, tmp_path):
    traced = only(
        trace(
            fresh_db,
            tmp_path,
            STABLE_FUNCTION
            + "ALTER FUNCTION default_plan() VOLATILE;\n"
            + "ALTER TABLE users ADD COLUMN plan text DEFAULT default_plan();",
        )
    )
    assert traced.rewritten == ("public.users", "public.users_pkey")


IDENTITY_LATER = (
    "ALTER TABLE {table} ADD COLUMN f2 bigint NOT NULL,\n"
    "  ALTER COLUMN f2 ADD GENERATED ALWAYS AS IDENTITY;"
)


def test_an_identity_added_by_a_later_action_leaves_existing_rows_null(fresh_db, tmp_path):
    result = trace(fresh_db, tmp_path, IDENTITY_LATER.format(table="users"))
    [traced] = result.statements
    assert traced.error == '23502 column "f2" of relation "users" contains null values'


def test_on_an_empty_table_it_only_scans_and_old_inserts_get_identity_values(fresh_db, tmp_path):
    result = trace(
        fresh_db,
        tmp_path,
        IDENTITY_LATER.format(table="empty"),
        history="CREATE TABLE empty (id int);",
        old=("INSERT INTO empty (id) VALUES (1)",),
    )
    traced = only(result)
    assert (traced.rewritten, traced.scanned) == ((), ("public.empty",))
    assert result.findings == []


GENERATED = (
    "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2),\n"
    "  total_cents bigint GENERATED ALWAYS AS (total * 100) {kind});\n"
    "INSERT INTO orders (id, total) SELECT g, g FROM generate_series(1, 50) g;\n"
)
RETYPE = "ALTER TABLE orders ALTER COLUMN total_cents TYPE numeric;"


def test_a_virtual_generated_columns_type_change_rewrites_nothing(fresh_db, tmp_path):
    # PostgreSQL 18: VIRTUAL is also what a generated column is when neither kind is written.
    traced = only(trace(fresh_db, tmp_path, RETYPE, history=GENERATED.format(kind="")))
    assert (traced.rewritten, traced.scanned) == ((), ())


def test_a_stored_generated_columns_type_change_rewrites_the_table(fresh_db, tmp_path):
    traced = only(trace(fresh_db, tmp_path, RETYPE, history=GENERATED.format(kind="STORED")))
    assert traced.rewritten == ("public.orders", "public.orders_pkey")
