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
