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
    Skipped,
    SkipReason,
    Transaction,
    first_line,
    matching,
    sections,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(\d+)_(.*)\.(sql|go)$", re.IGNORECASE)
_ANNOTATION = LazyPattern(r"(?im)^[ \t]*--[ \t]*\+goose[ \t]+(up|down)\b[^\r\n]*")
_NO_TRANSACTION = LazyPattern(r"(?im)^[ \t]*--[ \t]*\+goose[ \t]+NO[ \t]+TRANSACTION\b")
_MARKER = "+goose"


def detect(entries: Entries) -> bool:
    sql = sorted(
        name
        for name in entries.files
        if name[:1].isdigit() and name.endswith(".sql") and _NAME.match(name)
    )
    return bool(sql) and _MARKER in first_line(entries.directory / sql[0], 2048).lower()


def migrations(directory: Path) -> Listing:
    found = []
    skipped = []
    for match in matching(directory, _NAME):
        path = directory / match.string
        if match.group(3).lower() == "go":
            skipped.append(Skipped(str(path), SkipReason.GO_MIGRATION, "a Go migration"))
        else:
            found.append(MigrationFile(path, LAYOUT.name, match.group(1), Transaction.WRAPPED))
    found.sort(key=lambda m: int(m.version))
    return Listing(tuple(found), tuple(skipped))


def forward(text: str, file: MigrationFile) -> Forward:
    parts = sections(text, _ANNOTATION.finditer(text), lambda m: m.group(1).lower() == "up")
    no_transaction = _NO_TRANSACTION.search(text) is not None
    return Forward(
        parts.forward,
        Transaction.AUTOCOMMIT if no_transaction else Transaction.WRAPPED,
        tuple(
            (SkipReason.DOWN, "the -- +goose Down section", start, end)
            for _, start, end in parts.others
        ),
    )


LAYOUT = Layout(
    name="goose",
    summary="<version>_<name>.sql in numeric order; the -- +goose Up section, in a "
    "transaction unless NO TRANSACTION",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
