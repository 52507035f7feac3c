"""What a changeset's attributes mean, in formatted SQL and in XML/YAML changelogs alike."""

from __future__ import annotations

import re

from bgmigrate.source.layouts.base import Transaction
from bgmigrate.source.sql import split_sql

__all__ = ["is_false", "other_dbms", "split_at", "transaction_mode"]

_POSTGRESQL = "postgresql"


def is_false(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "false"


def other_dbms(dbms: str | None) -> str | None:
    """The `dbms` value when it keeps the changeset (or change) off PostgreSQL, else None.

    Liquibase reads a comma-separated list: `postgresql` or `all` runs it, `!postgresql` and
    `none` do not; a list of other names only (`mysql, h2`) does not, one of exclusions only
    (`!mysql`) does.
    """
    if dbms is None or not dbms.strip():
        return None
    names = [name.strip().lower() for name in dbms.split(",") if name.strip()]
    if f"!{_POSTGRESQL}" in names or "none" in names:
        return dbms
    included = [name for name in names if not name.startswith("!")]
    if not included or _POSTGRESQL in included or "all" in included:
        return None
    return dbms


def transaction_mode(run_in_transaction: str | None, split_statements: str | None) -> Transaction:
    """Liquibase runs each changeset in its own transaction unless `runInTransaction` is false;
    then each statement on its own, or, with `splitStatements` false too, the whole body as one
    JDBC statement (an implicit transaction when it holds several)."""
    if not is_false(run_in_transaction):
        return Transaction.WRAPPED
    return Transaction.ONE_QUERY if is_false(split_statements) else Transaction.AUTOCOMMIT


def split_at(text: str, delimiter: str) -> list[tuple[str, int, int]]:
    """The statements of `text` as (sql, start, end), split at an `endDelimiter` and at
    semicolons (PostgreSQL's driver splits at those anyway). `/` and `GO` count only on a line
    of their own, as Liquibase reads them; any other delimiter at the end of a line."""
    if delimiter in ("", ";"):
        return [(piece.sql, piece.start, piece.end) for piece in split_sql(text)]
    if delimiter.lower() in ("/", "go"):
        pattern = re.compile(rf"(?im)^[ \t]*{re.escape(delimiter)}[ \t]*$")
    else:
        pattern = re.compile(rf"(?m){re.escape(delimiter)}[ \t]*$")
    statements = []
    position = 0
    for match in [*pattern.finditer(text), None]:
        end = match.start() if match else len(text)
        statements.extend(
            (piece.sql, position + piece.start, position + piece.end)
            for piece in split_sql(text[position:end])
        )
        position = match.end() if match else len(text)
    return statements
