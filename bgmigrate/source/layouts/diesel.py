"""diesel (Rust): `migrations/<version>_<name>/up.sql` and `down.sql`.

The version is the directory name up to its first `_` with its dashes removed (diesel's
`version_from_string`: `2017-09-23-182408` is `20170923182408`), and versions apply in their
string order. Each `up.sql` runs in a transaction unless the directory's `metadata.toml` says
`run_in_transaction = false`.
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
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_DIRECTORY = LazyPattern(r"^(\d[\d-]*)_(.+)$")
_NO_TRANSACTION = LazyPattern(r"(?m)^[ \t]*run_in_transaction[ \t]*=[ \t]*false\b")


def detect(entries: Entries) -> bool:
    return any(
        _DIRECTORY.match(name) and (entries.directory / name / "up.sql").is_file()
        for name in sorted(entries.directories)[:3]
    )


def migrations(directory: Path) -> Listing:
    found = []
    skipped = []
    versions = sorted(
        (match.group(1).replace("-", ""), match.string)
        for entry in directory.iterdir()
        if entry.is_dir() and (match := _DIRECTORY.match(entry.name)) is not None
    )
    for version, name in versions:
        folder = directory / name
        if (folder / "up.sql").is_file():
            found.append(MigrationFile(folder / "up.sql", LAYOUT.name, version, _mode(folder)))
        if (folder / "down.sql").is_file():
            skipped.append(Skipped(str(folder / "down.sql"), SkipReason.DOWN, "a down.sql file"))
    return Listing(tuple(found), tuple(skipped))


def _mode(folder: Path) -> Transaction:
    try:
        metadata = (folder / "metadata.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Transaction.WRAPPED
    return Transaction.AUTOCOMMIT if _NO_TRANSACTION.search(metadata) else Transaction.WRAPPED


LAYOUT = Layout(
    name="diesel",
    summary="<version>_<name>/up.sql in version order; in a transaction unless metadata.toml "
    "says run_in_transaction = false",
    detect=detect,
    migrations=migrations,
)
