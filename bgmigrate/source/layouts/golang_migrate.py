"""golang-migrate: `<version>_<title>.up.sql` and `.down.sql` pairs in one directory.

Versions are unsigned integers applied in numeric order (`10_` after `9_`). The postgres driver
sends each file as one query, so PostgreSQL runs a file of several statements as one implicit
transaction (`CREATE INDEX CONCURRENTLY` must stand alone in its file) and a single statement
on its own. Files that do not match the pattern (a README) are not migrations.
"""

from __future__ import annotations

import re
from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Layout,
    Listing,
    MigrationFile,
    Skipped,
    SkipReason,
    Transaction,
    matching,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT", "UP_DOWN", "up_down_listing"]

UP_DOWN = LazyPattern(r"^(\d+)_(.*)\.(up|down)\.sql$", re.IGNORECASE)


def detect(entries: Entries) -> bool:
    sql = [name.lower() for name in entries.files if name.lower().endswith(".sql")]
    # The string test first: in most directories it fails before the pattern is compiled.
    return (
        bool(sql)
        and all(name.endswith((".up.sql", ".down.sql")) for name in sql)
        and all(UP_DOWN.match(name) for name in sql)
    )


def up_down_listing(directory: Path, layout: str, transaction: Transaction) -> Listing:
    """The `.up.sql` files of `directory` in numeric version order; `.down.sql` skipped."""
    migrations = []
    skipped = []
    for match in matching(directory, UP_DOWN):
        path = directory / match.string
        if match.group(3).lower() == "down":
            skipped.append(Skipped(str(path), SkipReason.DOWN, "a .down.sql file"))
        else:
            migrations.append(MigrationFile(path, layout, match.group(1), transaction))
    migrations.sort(key=lambda m: int(m.version))  # stable: natural order within a version
    return Listing(tuple(migrations), tuple(skipped))


def migrations(directory: Path) -> Listing:
    return up_down_listing(directory, LAYOUT.name, Transaction.ONE_QUERY)


LAYOUT = Layout(
    name="golang-migrate",
    summary="<version>_<title>.up.sql in numeric order; each file sent as one query",
    detect=detect,
    migrations=migrations,
)
