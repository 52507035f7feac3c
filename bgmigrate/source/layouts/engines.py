"""Files written for another database engine: skipped, never parsed as PostgreSQL.

By name first (`1_x.mysql.up.sql`, a `sqlite/` directory), then, where names say nothing, by
what only another engine accepts: `PRAGMA`, `AUTO_INCREMENT`/`AUTOINCREMENT`, `ENGINE=InnoDB`,
backtick-quoted identifiers.
"""

from __future__ import annotations

import functools
import re

from bgmigrate.source.patterns import LazyPattern

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
    (LazyPattern(r"(?im)^[ \t]*PRAGMA[ \t]+\w"), "SQLite (PRAGMA)"),
    (LazyPattern(r"(?i)\bAUTOINCREMENT\b"), "SQLite (AUTOINCREMENT)"),
    (LazyPattern(r"(?i)\bAUTO_INCREMENT\b"), "MySQL (AUTO_INCREMENT)"),
    (LazyPattern(r"(?i)\bENGINE[ \t]*=[ \t]*\w"), "MySQL (ENGINE=)"),
    (LazyPattern(r"(?im)^[ \t]*DELIMITER[ \t]+\S"), "MySQL (DELIMITER)"),
    (LazyPattern(r"(?i)\bSET[ \t]+@\w"), "MySQL (@variables)"),
    (
        LazyPattern(r"(?i)\b(?:INT|INTEGER|BIGINT|SMALLINT|TINYINT)(?:\(\d+\))?[ \t]+UNSIGNED\b"),
        "MySQL (UNSIGNED)",
    ),
    (LazyPattern(r"(?i)\bDEFAULT[ \t]+CHARSET[ \t]*="), "MySQL (DEFAULT CHARSET=)"),
    (
        LazyPattern(r"(?i)\b(?:TABLE|INTO|REFERENCES|COLUMN|INDEX|ON|UPDATE|FROM|KEY)[ \t]+`\w+`"),
        "MySQL or SQLite (backtick-quoted identifiers)",
    ),
)


# Every content marker holds one of these (case aside): most files hold none, and are not scanned.
_CHEAP_MARKERS = ("pragma", "auto", "engine", "`", "delimiter", "@", "unsigned", "charset")
_DIRECTORY_WORD = LazyPattern(r"[-_.\s]+")
_COMMENT_OR_STRING = LazyPattern(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)


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


@functools.lru_cache(maxsize=1024)  # a directory of thousands of files repeats a few words
def other_engine_of_directory(name: str) -> str | None:
    """The engine a directory is named after (`sqlite`, `mysql-persistence`,
    `migration_sqlite`), when not PostgreSQL."""
    for word in _DIRECTORY_WORD.split(name.lower()):
        engine = _ENGINES.get(word)
        if engine is not None:
            return engine
    return None


def other_engine_by_content(text: str) -> str | None:
    """The engine whose syntax the text uses, when it is one PostgreSQL rejects. Comments and
    string literals are left out: a comment may quote `a column` in Markdown."""
    lowered = text.lower()
    if not any(marker in lowered for marker in _CHEAP_MARKERS):
        return None
    code = _COMMENT_OR_STRING.sub(" ", text)
    for marker, engine in _CONTENT:
        if marker.search(code) is not None:
            return engine
    return None
