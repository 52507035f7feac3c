"""goose: `<version>_<name>.sql` files with `-- +goose Up` and `-- +goose Down` sections.

Versions are integers applied in numeric order; `.go` files are Go migrations bgmigrate cannot
read. Only the Up section runs forward; `-- +goose StatementBegin/End` keep a block together
(psql's splitting already does for the bodies it wraps). Each migration runs in a transaction
unless the file says `-- +goose NO TRANSACTION`. With `-- +goose ENVSUB ON`, `${VAR}`s are
environment variables: substituted like every template for parsing.
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
    first_numbered_start,
    numbered,
    up_sections,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(\d+)_(.*)\.(sql|go)$", re.IGNORECASE)
_ANNOTATION = LazyPattern(r"(?im)^[ \t]*--[ \t]*\+goose[ \t]+(up|down)\b[^\r\n]*")
_NO_TRANSACTION = LazyPattern(r"(?im)^[ \t]*--[ \t]*\+goose[ \t]+NO[ \t]+TRANSACTION\b")
_MARKER = "+goose"


def detect(entries: Entries) -> bool:
    return _MARKER in first_numbered_start(entries, _NAME).lower()


def migrations(directory: Path) -> Listing:
    return numbered(directory, _NAME, LAYOUT.name, Transaction.WRAPPED, _go)


def _go(match: re.Match[str]) -> tuple[SkipReason, str] | None:
    return (SkipReason.GO_MIGRATION, "a Go migration") if match.group(3).lower() == "go" else None


def forward(text: str, file: MigrationFile) -> Forward:
    no_transaction = _NO_TRANSACTION.search(text) is not None
    mode = Transaction.AUTOCOMMIT if no_transaction else Transaction.WRAPPED
    return up_sections(text, _ANNOTATION.finditer(text), mode, "the -- +goose Down section")


LAYOUT = Layout(
    name="goose",
    summary="<version>_<name>.sql in numeric order; the -- +goose Up section, in a "
    "transaction unless NO TRANSACTION",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
