"""Supabase CLI: `supabase/migrations/<timestamp>_<name>.sql`, in timestamp order.

The CLI runs each migration file in its own transaction (supabase/cli#2898: "the only
guaranteed way to create an index concurrently is to execute it in its own migration file"):
read as one query, so a statement that cannot run in a transaction passes only alone in its
file. `seed.sql` and the rest of `supabase/` are not migrations.
"""

from __future__ import annotations

from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Layout,
    Listing,
    Transaction,
    numbered,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(\d+)_.*\.sql$")


def detect(entries: Entries) -> bool:
    """The project directory (`supabase/`, with config.toml), or its `migrations/`."""
    if "config.toml" in entries.files and "migrations" in entries.directories:
        return entries.directory.absolute().name == "supabase"
    project = entries.directory.absolute().parent
    return (
        entries.directory.name == "migrations"
        and project.name == "supabase"
        and (project / "config.toml").is_file()
    )


def migrations(directory: Path) -> Listing:
    if (directory / "config.toml").is_file():
        directory = directory / "migrations"
    return numbered(directory, _NAME, LAYOUT.name, Transaction.ONE_QUERY)


LAYOUT = Layout(
    name="supabase",
    summary="supabase/migrations/<timestamp>_<name>.sql in timestamp order; each file one "
    "transaction",
    detect=detect,
    migrations=migrations,
)
