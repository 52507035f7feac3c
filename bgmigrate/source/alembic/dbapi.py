"""The PostgreSQL driver under SQLAlchemy for replays, and SQL text from driver-level statements.

psycopg 3 with SQLAlchemy 2; psycopg2 with SQLAlchemy 1.4, which applications still on it (and
their virtualenvs, where bgmigrate runs) have installed.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["dollar_placeholders", "engine", "inline_literals", "literal_sql", "sqlstate"]

_FORMAT_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")


def engine(dsn: str) -> Engine:
    """An engine whose every connection goes to `dsn`, with SQLAlchemy 2.0 semantics."""
    import sqlalchemy
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if int(sqlalchemy.__version__.split(".")[0]) >= 2:
        import psycopg

        return create_engine(
            "postgresql+psycopg://", creator=lambda: psycopg.connect(dsn), poolclass=NullPool
        )
    import psycopg2
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    # psycopg2 reads key=value conninfo only; psycopg 3 reads URIs as well.
    conninfo = make_conninfo(**conninfo_to_dict(dsn))
    return create_engine(
        "postgresql+psycopg2://",
        creator=lambda: psycopg2.connect(conninfo),
        poolclass=NullPool,
        future=True,
    )


def literal_sql(cursor: Any, statement: str, parameters: Any) -> str:
    """The statement with its bound values inlined as the driver sends them, or with `$n`
    placeholders when they cannot be rendered."""
    try:
        if hasattr(cursor, "mogrify"):  # psycopg2
            return cursor.mogrify(statement, parameters).decode(cursor.connection.encoding)
        import psycopg

        return psycopg.ClientCursor(cursor.connection).mogrify(statement, parameters)
    except Exception:  # whatever the driver raises for a value it cannot adapt
        return dollar_placeholders(statement)


def inline_literals(statement: str, parameters: Any) -> str:
    """Driver-level SQL (`%s` / `%(name)s` placeholders, as psycopg2 takes them) with its
    values inlined as PostgreSQL literals, rendered by SQLAlchemy without a connection; `$n`
    placeholders when a value has no literal form. Without parameters the driver sends the
    text as it is, `%` included, and so does this."""
    if not parameters:
        return statement
    from sqlalchemy import exc

    positions = itertools.count() if isinstance(parameters, (list, tuple)) else None

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        key = match.group(1) if positions is None else next(positions)
        return _literal(parameters[key])

    try:
        return _FORMAT_PLACEHOLDER.sub(replace, statement)
    except (exc.CompileError, NotImplementedError, TypeError, ValueError, LookupError):
        return dollar_placeholders(statement)  # a value without a literal form, or not given


def _literal(value: Any) -> str:
    """A Python value as psycopg2 adapts it: tuples as lists in parentheses (`IN %s`),
    lists as arrays, anything else as SQLAlchemy's PostgreSQL dialect renders its literal."""
    from sqlalchemy import literal
    from sqlalchemy.dialects import postgresql

    if isinstance(value, tuple):
        return f"({', '.join(_literal(item) for item in value)})"
    if isinstance(value, list):
        return f"ARRAY[{', '.join(_literal(item) for item in value)}]"
    compiled = literal(value).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def dollar_placeholders(sql: str) -> str:
    """`%s` / `%(name)s` placeholders (the `format`/`pyformat` paramstyles) as PostgreSQL's
    `$n`, which its parser accepts; `%%` back to `%`."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        key = match.group(1) or f"#{len(numbers)}"
        return f"${numbers.setdefault(key, len(numbers) + 1)}"

    return _FORMAT_PLACEHOLDER.sub(replace, sql)


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error, or of the one SQLAlchemy wrapped; None otherwise."""
    original = getattr(error, "orig", error)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
