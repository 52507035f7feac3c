"""Connecting, and passwords that never reach a message."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bgmigrate.execute.connection import connect, redact_dsn
from bgmigrate.execute.errors import ExecutionError, UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://app:s3cret@db:5432/shop", "postgresql://app:***@db:5432/shop"),
        (
            "postgres://app:s3cret@db/shop?sslmode=require",
            "postgres://app:***@db/shop?sslmode=require",
        ),
        ("postgresql://app@db/shop", "postgresql://app@db/shop"),
        (
            "host=db user=app password=s3cret dbname=shop",
            "host=db user=app password=*** dbname=shop",
        ),
        ("host=db password='s3 cret' dbname=shop", "host=db password=*** dbname=shop"),
        (
            "postgresql://db/shop?user=app&password=s3cret&x=1",
            "postgresql://db/shop?user=app&password=***&x=1",
        ),
        (
            "failed for postgresql://a:b@h/d and https://u:p@example.com/x",
            "failed for postgresql://a:***@h/d and https://u:***@example.com/x",
        ),
    ],
)
def test_redact_dsn_hides_every_password(text: str, expected: str) -> None:
    assert redact_dsn(text) == expected


def test_missing_dsn_says_how_to_give_one() -> None:
    with pytest.raises(UsageError, match="pass --dsn URL or set DATABASE_URL"):
        connect(None, application_name="test")


def test_malformed_dsn_is_a_usage_error_without_the_password() -> None:
    with pytest.raises(UsageError) as caught:
        connect("postgresql://app:s3cret@db/shop?bogus=1", application_name="test")
    assert "s3cret" not in str(caught.value)
    assert "invalid database URL postgresql://app:***@db/shop?bogus=1" in str(caught.value)


def test_refused_login_is_one_line_without_the_password(pg_dsn: str) -> None:
    params = conninfo_to_dict(pg_dsn)
    params.update(user="nobody_here", password="s3cret-Pa55")
    dsn = make_conninfo(**params)
    with pytest.raises(ExecutionError) as caught:
        connect(dsn, application_name="test")
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert "s3cret-Pa55" not in message
    assert "password=***" in message
    assert 'role "nobody_here" does not exist' in message
    assert "\n" not in message


def test_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(ExecutionError) as caught:
        connect("postgresql://app:s3cret@127.0.0.1:9/shop", application_name="test")
    message = str(caught.value)
    assert message.startswith("cannot connect to postgresql://app:***@127.0.0.1:9/shop: ")
    assert "s3cret" not in message and "\n" not in message
