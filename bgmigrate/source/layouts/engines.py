"""Files written for another database engine: skipped, never parsed as PostgreSQL.

By name first (`1_x.mysql.up.sql`, a `sqlite/` directory), then, where names say nothing, by
what only another engine accepts: `PRAGMA`, `AUTO_INCREMENT`/`AUTOINCREMENT`, `ENGINE=InnoDB`,
backtick-quoted identifiers.
"""

from __future__ import annotations

import re

__all__ = ["other_engine_by_content", "other_engine_by_name", "other_engine_of_directory"]

_ENGINES = {
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "sqlite": "SQLite",
    "sqlite3": "SQLite",
    "cockroach": "CockroachDB",
    "cockroachdb": "CockroachDB",
    "crdb": "CockroachDB",
    "mssql": "SQL Server",
    "sqlserver": "SQL Server",
    "oracle": "Oracle",
    "tidb": "TiDB",
    "spanner": "Spanner",
    "clickhouse": "ClickHouse",
}

# Each marker only another engine's grammar accepts, with the engine it points to. A backtick
# is an identifier quote in MySQL and SQLite; PostgreSQL has no use for one outside strings.
_CONTENT = (
    (re.compile(r"(?im)^[ \t]*PRAGMA[ \t]+\w"), "SQLite (PRAGMA)"),
    (re.compile(r"(?i)\bAUTOINCREMENT\b"), "SQLite (AUTOINCREMENT)"),
    (re.compile(r"(?i)\bAUTO_INCREMENT\b"), "MySQL (AUTO_INCREMENT)"),
    (re.compile(r"(?i)\bENGINE[ \t]*=[ \t]*\w"), "MySQL (ENGINE=)"),
    (
        re.compile(r"(?i)\b(?:TABLE|INTO|REFERENCES|COLUMN|INDEX|ON|UPDATE|FROM|KEY)[ \t]+`\w+`"),
        "MySQL or SQLite (backtick-quoted identifiers)",
    ),
)


def other_engine_by_name(relative: tuple[str, ...]) -> str | None:
    """The engine other than PostgreSQL that a path names: a directory (`sqlite/1.sql`) or a
    dot-separated part of the file name (`1_x.mysql.up.sql`). `relative` is the path's parts
    below the layout's directory."""
    *directories, name = relative
    for word in (*directories, *name.split(".")[1:]):
        engine = other_engine_of_directory(word)
        if engine is not None:
            return engine
    return None


def other_engine_of_directory(name: str) -> str | None:
    """The engine a directory is named after (`sqlite`, `mysql`), when not PostgreSQL."""
    return _ENGINES.get(name.lower())


def other_engine_by_content(text: str) -> str | None:
    """The engine whose syntax the text uses, when it is one PostgreSQL rejects."""
    for marker, engine in _CONTENT:
        if marker.search(text) is not None:
            return engine
    return None
