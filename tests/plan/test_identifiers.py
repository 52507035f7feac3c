import re

import pytest

from bgmigrate.plan.identifiers import (
    IdentifierError,
    QualifiedName,
    bounded_name,
    parse_identifier_path,
    quote_ident,
    quote_literal,
)


@pytest.mark.parametrize(
    ("name", "sql"),
    [
        ("users", "users"),
        ("email_address", "email_address"),
        ("order", '"order"'),
        ("user", '"user"'),
        ("User Email", '"User Email"'),
        ("Users", '"Users"'),
        ('a"b', '"a""b"'),
        ("1st", '"1st"'),
        ("name", "name"),  # an unreserved keyword stands bare, as PostgreSQL prints it
    ],
)
def test_quote_ident_quotes_only_when_postgres_needs_it(name, sql):
    assert quote_ident(name) == sql


def test_quote_ident_rejects_nul_and_empty_names():
    with pytest.raises(IdentifierError):
        quote_ident("")
    with pytest.raises(IdentifierError):
        quote_ident("a\x00b")


def test_quote_literal_doubles_quotes():
    assert quote_literal("it's") == "'it''s'"


def test_qualified_name_sql_quotes_each_part():
    assert QualifiedName("public", "User Email").sql == 'public."User Email"'


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("users.email", ("users", "email")),
        ("Users.Email", ("users", "email")),
        ('public.users."User Email"', ("public", "users", "User Email")),
        ('"a.b""c".x', ('a.b"c', "x")),
        ("users", ("users",)),
    ],
)
def test_parse_identifier_path_folds_unquoted_and_keeps_quoted(text, parts):
    assert parse_identifier_path(text) == parts


@pytest.mark.parametrize("text", ["users.", ".email", '"open', 'us"ers', "a..b"])
def test_parse_identifier_path_rejects_malformed_paths(text):
    with pytest.raises(IdentifierError):
        parse_identifier_path(text)


def test_bounded_name_fits_63_bytes_and_stays_distinct():
    long_a = bounded_name("x" * 70, suffix="_sync")
    long_b = bounded_name("x" * 71, suffix="_sync")
    assert len(long_a.encode()) <= 63 and long_a.endswith("_sync")
    assert long_a != long_b
    assert bounded_name("users", "email") == "users_email"


def test_every_keyword_is_letters_and_underscores() -> None:
    # quote_ident looks up only names of that shape: one with a digit or `$` is no keyword.
    from pglast import keywords

    every = set().union(
        *(getattr(keywords, name) for name in dir(keywords) if name.endswith("_KEYWORDS"))
    )
    assert len(every) > 400
    assert all(re.fullmatch(r"[a-z_]+", word) for word in every)
    assert quote_ident("select1") == "select1" and quote_ident("select") == '"select"'
