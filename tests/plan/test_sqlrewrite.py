import pytest

from bgmigrate.plan.identifiers import QualifiedName
from bgmigrate.plan.sqlrewrite import (
    RewriteError,
    rewrite_constraint,
    rewrite_index,
    rewrite_view,
    row_expression,
)

USERS = QualifiedName("public", "users")
ORDERS = QualifiedName("public", "orders")


def test_rewrite_index_renames_every_reference_and_builds_concurrently():
    sql = rewrite_index(
        "CREATE UNIQUE INDEX users_email_key ON public.users USING btree "
        "(lower((email)::text)) INCLUDE (email) WHERE (email IS NOT NULL)",
        name="users_email_address_key",
        renames={"email": "email_address"},
    )
    assert sql == (
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_key ON public.users "
        "((lower(CAST(email_address AS text)))) INCLUDE (email_address) "
        "WHERE email_address IS NOT NULL"
    )


def test_rewrite_index_moves_to_another_table():
    sql = rewrite_index(
        "CREATE INDEX users_bio_idx ON public.users USING btree (bio)",
        name="user_profiles_bio_idx",
        table=QualifiedName("public", "user_profiles"),
    )
    assert "ON public.user_profiles (bio)" in sql


def test_rewrite_index_leaves_string_literals_alone():
    sql = rewrite_index(
        "CREATE INDEX i ON public.users USING btree (email) WHERE (email <> 'email'::text)",
        name="j",
        renames={"email": "email_address"},
    )
    assert "'email'" in sql and "(email_address)" in sql


def test_rewrite_constraint_renames_own_and_referenced_columns_separately():
    check = rewrite_constraint(
        "CHECK ((char_length((email)::text) > 3))",
        table=USERS,
        name="users_email_address_check",
        renames={"email": "email_address"},
        not_valid=True,
    )
    assert check.endswith("CHECK (char_length(CAST(email_address AS text)) > 3) NOT VALID")
    foreign = rewrite_constraint(
        "FOREIGN KEY (email) REFERENCES public.users(email) ON UPDATE CASCADE",
        table=ORDERS,
        name="orders_email_fkey",
        referenced_renames={"email": "email_address"},
        not_valid=True,
    )
    assert "FOREIGN KEY (email) REFERENCES public.users (email_address)" in foreign


def test_rewrite_view_keeps_output_names_and_other_tables_columns():
    sql = rewrite_view(
        QualifiedName("public", "v"),
        "SELECT u.email, o.email AS order_email FROM (public.users u "
        "JOIN public.orders o ON ((o.user_id = u.id)))",
        table=USERS,
        renames={"email": "email_address"},
        other_columns=lambda relation: frozenset({"email", "user_id"}),
    )
    assert "u.email_address AS email" in sql
    assert "o.email AS order_email" in sql


def test_rewrite_view_refuses_an_ambiguous_unqualified_column():
    with pytest.raises(RewriteError, match="unqualified"):
        rewrite_view(
            QualifiedName("public", "v"),
            "SELECT email FROM public.users, public.orders",
            table=USERS,
            renames={"email": "email_address"},
            other_columns=lambda relation: frozenset({"email"}),
        )


def test_rewrite_view_refuses_join_using_the_column():
    with pytest.raises(RewriteError, match="USING"):
        rewrite_view(
            QualifiedName("public", "v"),
            "SELECT id FROM public.users JOIN public.orders USING (email)",
            table=USERS,
            renames={"email": "email_address"},
            other_columns=lambda relation: frozenset(),
        )


def test_row_expression_reads_columns_from_the_trigger_row():
    assert row_expression('lower(email) || "User Email"') == 'lower(new.email) || new."User Email"'
