"""Liquibase: changelogs in XML, YAML or JSON, and formatted SQL (`--liquibase formatted sql`).

The master changelog decides the order: its `include`s in document order and its
`includeAll`s in alphabetical order of path, each included changelog's own changesets before
the changelogs it includes in turn; `<sqlFile>` targets follow the changelog that names them.
A path is resolved beside the including changelog (`relativeToChangelogFile`) or, as Liquibase
resolves it against the classpath, below the nearest enclosing folder that holds it
(`src/main/resources`). In a directory without a master, every changelog runs in alphabetical
order, as `includeAll` would run them. Each changeset runs in its own transaction unless it says
`runInTransaction: false`; see `formatted` and `changelog` for what of a file runs forward.
"""

from __future__ import annotations

import re
from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Forward,
    Layout,
    Listing,
    MigrationFile,
    first_line,
    whole_file,
)

__all__ = ["LAYOUT"]

# Kept here, not in `order` and `formatted`, so that detection (on every commit) loads nothing
# else: the modules that read changelogs load when a Liquibase directory is read.
STRUCTURED = (".xml", ".yaml", ".yml", ".json")
ROOT = "databaseChangeLog"
FORMATTED = re.compile(r"(?i)\A\ufeff?[ \t]*--[ \t]*liquibase[ \t]+formatted[ \t]+sql\b")


def detect(entries: Entries) -> bool:
    """A changelog (`db.changelog-master.yaml`, `changelog.xml`, `master.xml`, or any XML,
    YAML or JSON file) with a `databaseChangeLog` root near its top, or formatted SQL. Names
    that say changelog are looked at first."""
    structured = [name for name in entries.files if name.lower().endswith(STRUCTURED)]
    structured.sort(
        key=lambda name: "changelog" not in name.lower() and "master" not in name.lower()
    )
    if any(ROOT in first_line(entries.directory / name, 2048) for name in structured):
        return True
    sql = sorted(name for name in entries.files if name.lower().endswith(".sql"))
    return bool(sql) and FORMATTED.match(first_line(entries.directory / sql[0])) is not None


def migrations(directory: Path) -> Listing:
    from bgmigrate.source.layouts.liquibase.order import changelogs_in_order

    return changelogs_in_order(directory, LAYOUT.name)


def forward(text: str, file: MigrationFile) -> Forward:
    suffix = file.path.suffix.lower()
    if suffix in STRUCTURED:
        from bgmigrate.source.layouts.liquibase.changelog import changelog_forward

        return changelog_forward(text, suffix)
    if FORMATTED.match(text):
        from bgmigrate.source.layouts.liquibase.formatted import formatted_forward

        return formatted_forward(text)
    return whole_file(text, file)  # a <sqlFile> target or an included plain SQL file


LAYOUT = Layout(
    name="liquibase",
    summary="the master changelog's include/includeAll order; each changeset in its own "
    "transaction; XML/YAML changes rendered as SQL; rollbacks and other dbms skipped",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
