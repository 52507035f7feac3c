import pytest

from bgmigrate.plan.expressions import (
    check_expression,
    check_type,
    is_volatile,
    parse_type,
)
from bgmigrate.plan.model import PlanError


@pytest.mark.parametrize("text", ["''", "now()", "lower(email)", "quantity::bigint", "(SELECT 1)"])
def test_check_expression_accepts_one_expression(text):
    assert check_expression(f"  {text} ", "--backfill") == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1; DROP TABLE users",
        "1) FROM users; DROP TABLE users; SELECT (1",
        "1) FROM users WHERE (true",
        "1 --",
    ],
)
def test_check_expression_rejects_anything_but_one_expression(text):
    with pytest.raises(PlanError, match="--backfill"):
        check_expression(text, "--backfill")


@pytest.mark.parametrize("text", ["bigint", "varchar(255)", "numeric(12, 2)", "text[]"])
def test_check_type_accepts_type_names(text):
    assert check_type(text) == text


@pytest.mark.parametrize("text", ["int; DROP TABLE users", "int, 1", "int) FROM users --"])
def test_check_type_rejects_smuggled_sql(text):
    with pytest.raises(PlanError, match="type"):
        check_type(text)


def test_parse_type_normalises_spellings():
    assert parse_type("integer") == parse_type("int4") == parse_type("int")
    assert str(parse_type("character varying(255)")) == "varchar(255)"


def test_volatility_of_expressions():
    assert is_volatile("gen_random_uuid()")
    assert is_volatile("my_function()")  # unknown: assume the worst
    assert not is_volatile("now()")
