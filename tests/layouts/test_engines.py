"""Other engines' files: by name, by directory, and by what only their grammar accepts."""

from __future__ import annotations

import pytest

from bgmigrate.source.layouts.engines import (
    other_engine_by_content,
    other_engine_by_name,
    other_engine_of_directory,
)


@pytest.mark.parametrize(
    ("relative", "engine"),
    [
        (("1_x.mysql.up.sql",), "MySQL"),
        (("1_x.sqlite3.down.sql",), "SQLite"),
        (("sqlite", "1_x.sql"), "SQLite"),
        (("1_x.postgres.up.sql",), None),
        (("1_add_mysql_import.sql",), None),  # a word in the name, not a dialect part
    ],
)
def test_by_name(relative: tuple[str, ...], engine: str | None) -> None:
    assert other_engine_by_name(relative) == engine


def test_by_directory_words() -> None:
    assert other_engine_of_directory("mysql-persistence") == "MySQL"
    assert other_engine_of_directory("migration_sqlite") == "SQLite"
    assert other_engine_of_directory("postgresql") is None


@pytest.mark.parametrize(
    ("sql", "engine"),
    [
        ("PRAGMA foreign_keys = ON;", "SQLite (PRAGMA)"),
        ("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);", "SQLite (AUTOINCREMENT)"),
        ("CREATE TABLE `t` (`id` int);", "MySQL or SQLite (backtick-quoted identifiers)"),
        ("CREATE TABLE t (id int) ENGINE=InnoDB;", "MySQL (ENGINE=)"),
        ("DELIMITER //\nCREATE PROCEDURE p() BEGIN END //", "MySQL (DELIMITER)"),
        ("SET @n = 1;", "MySQL (@variables)"),
        ("CREATE TABLE t (n INT(10) UNSIGNED);", "MySQL (UNSIGNED)"),
    ],
)
def test_by_content(sql: str, engine: str) -> None:
    assert other_engine_by_content(sql) == engine


@pytest.mark.parametrize(
    "sql",
    [
        "-- The `email` column is unique now (Prisma's warning)\nALTER TABLE u ADD x int;",
        "/* run with `psql -f` */ CREATE TABLE t (id int);",
        "COMMENT ON TABLE t IS 'uses `backticks` and ENGINE=x in prose';",
        "SELECT '@home' AS place, 'auto' AS mode;",
    ],
)
def test_never_in_comments_or_strings(sql: str) -> None:
    assert other_engine_by_content(sql) is None
