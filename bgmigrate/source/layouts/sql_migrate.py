"""sql-migrate (rubenv/sql-migrate): `<version>…sql` files with `-- +migrate Up` and
`-- +migrate Down` sections.

Files whose names start with a number apply in numeric order (sql-migrate compares those
prefixes as integers: `10_` after `9_`). A command is a line that starts with `-- +migrate `
exactly; a file may hold several Up and Down sections, and only the Up sections run forward.
`-- +migrate StatementBegin/End` keep a block together (psql's splitting already does for the
bodies it wraps). A migration's Up sections run in one transaction unless any Up line says
`notransaction` (sql-migrate then runs them all without one).
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
    Transaction,
    first_numbered_start,
    numbered,
    up_sections,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(\d+)(.*)\.sql$", re.IGNORECASE)
_COMMAND = LazyPattern(r"(?m)^-- \+migrate[ \t]+(Up|Down)(?![^ \t\r\n])([^\r\n]*)")
_NO_TRANSACTION = LazyPattern(r"(?<!\S)notransaction(?!\S)")


def detect(entries: Entries) -> bool:
    return _COMMAND.search(first_numbered_start(entries, _NAME)) is not None


def migrations(directory: Path) -> Listing:
    return numbered(directory, _NAME, LAYOUT.name, Transaction.WRAPPED)


def forward(text: str, file: MigrationFile) -> Forward:
    markers = list(_COMMAND.finditer(text))
    no_transaction = any(
        marker.group(1) == "Up" and _NO_TRANSACTION.search(marker.group(2)) for marker in markers
    )
    mode = Transaction.AUTOCOMMIT if no_transaction else Transaction.WRAPPED
    return up_sections(text, markers, mode, "the -- +migrate Down section")


LAYOUT = Layout(
    name="sql-migrate",
    summary="<version>….sql in numeric order; the -- +migrate Up section, in a transaction "
    "unless notransaction",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
