"""Prisma Migrate: `migrations/<timestamp>_<name>/migration.sql`, in directory-name order.

`migration_lock.toml`'s `provider` names the engine of every migration in the directory.
Prisma sends each migration.sql as one script, so PostgreSQL runs a file of several statements
as one implicit transaction, and a single statement on its own (users put `CREATE INDEX
CONCURRENTLY` alone in its migration for that reason). Prisma releases that split scripts into
statements (prisma-engines 2026) would make a mixed file pass too: not modelled here.
"""

from __future__ import annotations

from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Layout,
    Listing,
    MigrationFile,
    Skipped,
    SkipReason,
    Transaction,
)
from bgmigrate.source.layouts.engines import other_engine_of_directory
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_LOCK = "migration_lock.toml"
_PROVIDER = LazyPattern(r"""(?m)^\s*provider\s*=\s*["']([^"']+)["']""")
_POSTGRES = frozenset({"postgresql", "postgres"})


def detect(entries: Entries) -> bool:
    return _LOCK in entries.files


def migrations(directory: Path) -> Listing:
    scripts = [
        MigrationFile(folder / "migration.sql", LAYOUT.name, folder.name, Transaction.ONE_QUERY)
        for folder in sorted(directory.iterdir(), key=lambda p: p.name)
        if (folder / "migration.sql").is_file()
    ]
    provider = _provider(directory / _LOCK)
    if provider in _POSTGRES:
        return Listing(tuple(scripts))
    engine = other_engine_of_directory(provider) or provider
    return Listing(
        (), tuple(Skipped(str(m.path), SkipReason.OTHER_ENGINE, engine) for m in scripts)
    )


def _provider(lock: Path) -> str:
    try:
        found = _PROVIDER.search(lock.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return "postgresql"
    return found.group(1).lower() if found else "postgresql"


LAYOUT = Layout(
    name="prisma",
    summary="<timestamp>_<name>/migration.sql in name order; migration_lock.toml's provider "
    "names the engine",
    detect=detect,
    migrations=migrations,
)
