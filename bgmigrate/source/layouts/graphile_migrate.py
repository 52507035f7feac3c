"""graphile-migrate: `migrations/committed/<NNNNNN>[-message].sql`, then `current.sql`.

Committed migrations apply in number order, each in a transaction unless its body starts with
`--! no-transaction`: then it is one query, which PostgreSQL still runs as one implicit
transaction when it holds several statements. `current.sql` (or `current/*.sql`) is the
migration being written: checked last. Placeholders (`:DATABASE_OWNER`) are substituted.
"""

from __future__ import annotations

from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Forward,
    Layout,
    Listing,
    MigrationFile,
    Transaction,
    numbered,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_COMMITTED = LazyPattern(r"^(\d+)(?:-.*)?\.sql$")
_HEADER = LazyPattern(r"\A(?:[ \t]*--![ \t]*[A-Z][^\n]*\n|[ \t]*\n)*")
_NO_TRANSACTION = LazyPattern(r"[ \t]*--![ \t]*no-transaction\b")


def detect(entries: Entries) -> bool:
    return "committed" in entries.directories and (
        "current.sql" in entries.files or "current" in entries.directories
    )


def migrations(directory: Path) -> Listing:
    committed = directory / "committed"
    found = list(numbered(committed, _COMMITTED, LAYOUT.name, Transaction.WRAPPED).migrations)
    current = directory / "current.sql"
    if current.is_file():
        found.append(MigrationFile(current, LAYOUT.name, "current", Transaction.WRAPPED))
    elif (directory / "current").is_dir():
        found.extend(
            MigrationFile(path, LAYOUT.name, "current", Transaction.WRAPPED)
            for path in sorted((directory / "current").glob("*.sql"))
        )
    return Listing(tuple(found))


def forward(text: str, file: MigrationFile) -> Forward:
    body = _HEADER.match(text)
    at = body.end() if body else 0
    no_transaction = _NO_TRANSACTION.match(text, at) is not None
    return Forward(
        ((0, len(text)),), Transaction.ONE_QUERY if no_transaction else Transaction.WRAPPED
    )


LAYOUT = Layout(
    name="graphile-migrate",
    summary="committed/<NNNNNN>.sql in number order, then current.sql; in a transaction "
    "unless --! no-transaction",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
