"""What a changeset's attributes and preconditions mean, in formatted SQL and XML/YAML alike."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bgmigrate.source.layouts.base import SkipReason, Transaction
from bgmigrate.source.layouts.engines import other_engine_of_directory
from bgmigrate.source.layouts.liquibase.tree import Node
from bgmigrate.source.sql import split_sql

__all__ = [
    "context_engine",
    "counts_all_rows",
    "empty_table_precondition",
    "is_false",
    "left_out_by_attributes",
    "other_dbms",
    "precondition_dbms",
    "split_at",
    "transaction_mode",
]

_COUNT_ALL = re.compile(r"(?is)\s*select\s+count\s*\(\s*\*\s*\)\s+from\s+([\w.\"]+)\s*;?\s*\Z")
_CONTEXT_WORD = re.compile(r"[!\w-]+")
_CONTEXT_OPERATORS = frozenset({"and", "or", "not"})
# Engines that projects name as a context to pick each engine's changesets (Apache Fineract:
# context="mysql" / context="postgresql"), besides the names `engines` knows.
_EMBEDDED_ENGINES = frozenset({"h2", "hsqldb", "derby", "db2"})

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


def left_out_by_attributes(attributes: Mapping[str, str]) -> tuple[SkipReason, str] | None:
    """Why a changeset's (or an include's) attributes keep it out of a deploy to PostgreSQL:
    a `dbms` or `context` for other engines, `ignore`, or a context that must be given
    explicitly (`@test`)."""
    dbms = other_dbms(attributes.get("dbms"))
    if dbms is not None:
        return SkipReason.OTHER_ENGINE, f"dbms: {dbms}"
    context = attributes.get("context") or attributes.get("contextFilter") or ""
    engine = context_engine(context)
    if engine is not None:
        return SkipReason.OTHER_ENGINE, f"context: {engine}"
    if attributes.get("ignore", "").lower() == "true":
        return SkipReason.IGNORED, "ignore: true"
    if context.strip().startswith("@"):
        return SkipReason.IGNORED, f"context {context}: runs only when that context is given"
    return None


def counts_all_rows(sql: str) -> str | None:
    """The table of a `select count(*) from t` check: with an expected 0, the changeset runs
    only while the table is empty, where nothing it does waits or scans."""
    count = _COUNT_ALL.match(sql)
    return None if count is None else count.group(1)


def context_engine(context: str | None) -> str | None:
    """The `context` when it names only other engines (`mysql`, `h2 or mariadb`): projects
    that run the same changelog on several engines pick each one's changesets by context."""
    words = [w.lower() for w in _CONTEXT_WORD.findall(context or "")]
    names = [w for w in words if w not in _CONTEXT_OPERATORS]
    if not names or any(w.startswith("!") for w in names) or "not" in words:
        return None
    engines = [n for n in names if other_engine_of_directory(n) or n in _EMBEDDED_ENGINES]
    return context if len(engines) == len(names) else None


def precondition_dbms(preconditions: Node) -> str | None:
    """The engines a changeset's `<preConditions>` limit it to, when PostgreSQL is not one:
    a `<dbms type="mssql"/>` among them (all must hold), an `<or>` of such, or a `<not>` of
    `<dbms type="postgresql"/>`. Liquibase then marks the changeset ran, or stops, on
    PostgreSQL: either way it never runs there."""
    for condition in preconditions.children:
        engines = _dbms_types(condition)
        if condition.name == "dbms" and other_dbms(condition.get("type")) is not None:
            return condition.get("type")
        if condition.name == "or" and engines and all(other_dbms(e) for e in engines):
            return ", ".join(engines)
        if condition.name == "not" and any(other_dbms(e) is None for e in engines):
            return "not " + ", ".join(engines)
    return None


def empty_table_precondition(preconditions: Node) -> str | None:
    """The table a changeset runs only while empty: `<sqlCheck expectedResult="0">select
    count(*) from t</sqlCheck>` with `onFail` MARK_RAN or CONTINUE (Liquibase never runs it
    on a table with rows)."""
    if preconditions.get("onFail", "HALT").upper() not in ("MARK_RAN", "CONTINUE"):
        return None
    for condition in preconditions.children:
        table = counts_all_rows(condition.text) if condition.name == "sqlCheck" else None
        if table is not None and condition.get("expectedResult").strip() == "0":
            return table
    return None


def _dbms_types(condition: Node) -> list[str]:
    return [node.get("type") for node in condition.children if node.name == "dbms"]


def transaction_mode(run_in_transaction: str | None, split_statements: str | None) -> Transaction:
    """Liquibase runs each changeset in its own transaction unless `runInTransaction` is false;
    then each statement on its own, or, with `splitStatements` false too, the whole body as one
    JDBC statement (an implicit transaction when it holds several)."""
    if not is_false(run_in_transaction):
        return Transaction.WRAPPED
    return Transaction.ONE_QUERY if is_false(split_statements) else Transaction.AUTOCOMMIT


def split_at(text: str, delimiter: str) -> list[tuple[str, int, int]]:
    """The statements of `text` as (sql, start, end), split at semicolons as psql splits
    them (outside quotes, dollar quotes and comments), and at an `endDelimiter` of `/` or `GO`
    on a line of its own, which ends statements that have no semicolon. Any other delimiter
    (`--`, `$$`, `;;`) sits where PostgreSQL's own statements end with a semicolon anyway, and
    may stand inside a function body or a comment, where Liquibase does not split either."""
    if delimiter.lower() not in ("/", "go"):
        return [(piece.sql, piece.start, piece.end) for piece in split_sql(text)]
    statements = []
    position = 0
    for match in [*re.finditer(rf"(?im)^[ \t]*{re.escape(delimiter)}[ \t]*$", text), None]:
        end = match.start() if match else len(text)
        statements.extend(
            (piece.sql, position + piece.start, position + piece.end)
            for piece in split_sql(text[position:end])
        )
        position = match.end() if match else len(text)
    return statements
