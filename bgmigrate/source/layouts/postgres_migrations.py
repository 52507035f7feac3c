"""postgres-migrations (node): `<id>_<name>.sql` or `<id>-<name>.sql`, in id order.

Each file runs in a transaction unless it contains `-- postgres-migrations
disable-transaction`; then it is sent as one query, which PostgreSQL still runs as one implicit
transaction when it holds several statements. Runners built on it (supabase/storage) replace a
file that contains `-- postgres-migrations ignore` with `SELECT 1`: it never runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Forward,
    Layout,
    Listing,
    MigrationFile,
    SkipReason,
    Transaction,
    first_bytes,
    numbered,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(\d+)[-_].*\.sql$")
_MARKER = "-- postgres-migrations"
_DISABLE = "-- postgres-migrations disable-transaction"
_IGNORE = "-- postgres-migrations ignore"


def detect(entries: Entries) -> bool:
    sql = [name for name in entries.files if name.lower().endswith(".sql")]
    if not sql or not all(name[:1].isdigit() and _NAME.match(name) for name in sql):
        return False
    # Names alone look like plain SQL: the tool's marker at the top of any file decides (the
    # markers stand in the files that need them, often far down the list). Read as bytes from
    # paths joined as strings: a Path, or decoding, per file costs more than reading its start.
    directory, marker = str(entries.directory), _MARKER.encode()
    return any(marker in first_bytes(os.path.join(directory, name), 256) for name in sql)


def migrations(directory: Path) -> Listing:
    return numbered(directory, _NAME, LAYOUT.name, Transaction.WRAPPED)


def forward(text: str, file: MigrationFile) -> Forward:
    if _IGNORE in text:
        reason = (SkipReason.IGNORED, "-- postgres-migrations ignore", 0, len(text))
        return Forward((), file.transaction, (reason,))
    mode = Transaction.ONE_QUERY if _DISABLE in text else Transaction.WRAPPED
    return Forward(((0, len(text)),), mode)


LAYOUT = Layout(
    name="postgres-migrations",
    summary="<id>_<name>.sql in id order; in a transaction unless disable-transaction",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
