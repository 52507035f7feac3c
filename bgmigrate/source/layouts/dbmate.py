"""dbmate: `db/migrations/<version>_<name>.sql` with `-- migrate:up` and `-- migrate:down`.

Versions (usually timestamps) apply in order; only the `migrate:up` section runs forward, in a
transaction unless its marker line says `transaction:false`.
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

_NAME = LazyPattern(r"^(\d+)(?:_(.*))?\.sql$", re.IGNORECASE)
_MARKER = LazyPattern(r"(?im)^[ \t]*--[ \t]*migrate:(up|down)\b([^\r\n]*)")
_NO_TRANSACTION = LazyPattern(r"(?i)\btransaction:false\b")


def detect(entries: Entries) -> bool:
    return "migrate:up" in first_numbered_start(entries, _NAME)


def migrations(directory: Path) -> Listing:
    return numbered(directory, _NAME, LAYOUT.name, Transaction.WRAPPED)


def forward(text: str, file: MigrationFile) -> Forward:
    markers = list(_MARKER.finditer(text))
    up = next((m for m in markers if m.group(1).lower() == "up"), None)
    no_transaction = up is not None and _NO_TRANSACTION.search(up.group(2)) is not None
    mode = Transaction.AUTOCOMMIT if no_transaction else Transaction.WRAPPED
    return up_sections(text, markers, mode, "the -- migrate:down section")


LAYOUT = Layout(
    name="dbmate",
    summary="<version>_<name>.sql in version order; the -- migrate:up section, in a "
    "transaction unless transaction:false",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
