"""sqlx (Rust): `<version>_<description>.sql`, or reversible `.up.sql`/`.down.sql` pairs.

Versions are 64-bit integers applied in numeric order. Each migration runs in a transaction
unless its first line is `-- no-transaction`. Told apart from golang-migrate by the Rust
project around it (a `Cargo.toml` beside the migrations directory, and no diesel.toml).
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
    SkipReason,
    Transaction,
    numbered,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(\d+)_(.*?)(\.up|\.down)?\.sql$")
_NO_TRANSACTION = LazyPattern(r"\A[ \t]*--[ \t]*no-transaction[ \t]*(?:\r?\n|\Z)")


def detect(entries: Entries) -> bool:
    parent = entries.directory.parent
    sql = [name for name in entries.files if name.lower().endswith(".sql")]
    return (
        bool(sql)
        and (parent / "Cargo.toml").is_file()
        and not (parent / "diesel.toml").is_file()
        and all(_NAME.match(name) for name in sql)
    )


def migrations(directory: Path) -> Listing:
    return numbered(directory, _NAME, LAYOUT.name, Transaction.WRAPPED, _down)


def _down(match: re.Match[str]) -> tuple[SkipReason, str] | None:
    return (SkipReason.DOWN, "a .down.sql file") if match.group(3) == ".down" else None


def forward(text: str, file: MigrationFile) -> Forward:
    no_transaction = _NO_TRANSACTION.match(text) is not None
    return Forward(
        ((0, len(text)),), Transaction.AUTOCOMMIT if no_transaction else Transaction.WRAPPED
    )


LAYOUT = Layout(
    name="sqlx",
    summary="<version>_<description>.sql in numeric order; each in a transaction unless "
    "its first line is `-- no-transaction`",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
