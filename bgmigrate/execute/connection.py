"""Connecting to the target database, and keeping passwords out of every message."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bgmigrate.execute.errors import ExecutionError, UsageError

if TYPE_CHECKING:
    import psycopg

__all__ = ["connect", "one_line", "redact_dsn"]

REDACTED = "***"
# scheme://user:password@host → the password part; any scheme (postgresql://, https://).
_URI_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/?#@]*):([^\s@/]*)@")
# password=… in a key/value conninfo (quoted or not) and in a URI query string. A password
# already redacted stays as it is, with what follows it (a message redacted twice keeps the
# colon after a target's label).
_KEYWORD_PASSWORD = re.compile(
    r"(\bpassword\s*=\s*)(\*\*\*(?=[:\s&]|$)|'(?:[^'\\]|\\.)*'|[^\s&]+)", re.IGNORECASE
)


def redact_dsn(text: str) -> str:
    """`text` with the password of every DSN or URL in it replaced by `***`."""
    text = _URI_PASSWORD.sub(rf"\1:{REDACTED}@", text)
    return _KEYWORD_PASSWORD.sub(rf"\1{REDACTED}", text)


def one_line(text: str) -> str:
    """A server or libpq message on one line, as a CLI error wants it."""
    return " ".join(text.split())


def connect(dsn: str | None, *, application_name: str) -> psycopg.Connection:
    """An autocommit connection to `dsn`, named `application_name` in `pg_stat_activity`.

    A missing or malformed DSN is a UsageError; a server that refuses the connection is an
    ExecutionError. Neither message shows the password.
    """
    import psycopg

    if not dsn:
        raise UsageError("no database given: pass --dsn URL or set DATABASE_URL")
    try:
        return psycopg.connect(
            dsn,
            autocommit=True,
            application_name=application_name[:63],
            connect_timeout=10,
            # Server-side prepared statements live in one server session, which a transaction
            # pooler (PgBouncer) does not keep for a client between transactions.
            prepare_threshold=None,
        )
    except psycopg.ProgrammingError as error:
        raise UsageError(
            f"invalid database URL {redact_dsn(dsn)}: {_hide(one_line(str(error)), dsn)}"
        ) from None
    except psycopg.OperationalError as error:
        raise ExecutionError(
            f"cannot connect to {redact_dsn(dsn)}: {_hide(one_line(str(error)), dsn)}"
        ) from None


def _hide(message: str, dsn: str) -> str:
    """Redact `message`, and also the password itself wherever libpq may have echoed it."""
    from psycopg.conninfo import conninfo_to_dict

    message = redact_dsn(message)
    try:
        password = conninfo_to_dict(dsn).get("password")
    except Exception:  # a DSN libpq cannot parse was reported as a UsageError already
        password = None
    if password:
        message = message.replace(str(password), REDACTED)
    return message
