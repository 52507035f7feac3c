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
    SkipReason,
    Transaction,
    numbered,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_UP_DOWN = LazyPattern(r"^(\d+)_(.*)\.(up|down)\.sql$", re.IGNORECASE)


def detect(entries: Entries) -> bool:
    sql = [name.lower() for name in entries.files if name.lower().endswith(".sql")]
    # The string test first: in most directories it fails before the pattern is compiled.
    return (
        bool(sql)
        and all(name.endswith((".up.sql", ".down.sql")) for name in sql)
        and all(_UP_DOWN.match(name) for name in sql)
    )


def migrations(directory: Path) -> Listing:
    return numbered(directory, _UP_DOWN, LAYOUT.name, Transaction.ONE_QUERY, _down)


def _down(match: re.Match[str]) -> tuple[SkipReason, str] | None:
    return (SkipReason.DOWN, "a .down.sql file") if match.group(3).lower() == "down" else None


LAYOUT = Layout(
    name="golang-migrate",
    summary="<version>_<title>.up.sql in numeric order; each file sent as one query",
    detect=detect,
    migrations=migrations,
)
