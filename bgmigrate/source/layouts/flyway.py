"""Flyway: `V<version>__<description>.sql`, `R__<description>.sql`, `U…` undo, `B…` baseline.

Versions apply in version order, each part a number (`V1.10` after `V1.9`; `.` and `_` both
separate parts; `1.0` is `1`); repeatable migrations follow all versioned ones, in description
order. Undo and baseline migrations never run in a forward deploy of an existing database.
Flyway scans the directory recursively, replaces `${placeholders}` first, and runs each script in
a transaction unless its `.conf` file (or a `-- flyway:executeInTransaction=false` line) says
otherwise, or every statement is one PostgreSQL refuses in a transaction (Flyway then runs the
script outside one; a mix of both fails in Flyway itself).
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
    Skipped,
    SkipReason,
    Transaction,
)
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(r"^(?:([VUB])([0-9][0-9._]*?)|(R))__(.*)\.sql$")
_PREFIXES = frozenset("VURB")
_VERSION_PART = LazyPattern(r"[._]")
_NOT_IN_TRANSACTION = LazyPattern(
    r"(?im)^[ \t]*(?:--[ \t]*flyway:)?executeInTransaction[ \t]*=[ \t]*false\b"
)
_SKIPPED = {
    "U": (SkipReason.UNDO, "an undo migration"),
    "B": (SkipReason.BASELINE, "a baseline migration"),
}


def detect(entries: Entries) -> bool:
    sql = [name for name in entries.files if name.lower().endswith(".sql")]
    return (
        bool(sql)
        and all(name[:1] in _PREFIXES for name in sql)
        and all(_NAME.match(name) for name in sql)
    )


def migrations(directory: Path) -> Listing:
    versioned = []
    repeatable = []
    skipped = []
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in files:
            match = _NAME.match(name)
            if match is None:
                continue
            path = Path(folder, name)
            prefix = match.group(1) or match.group(3)
            if prefix in _SKIPPED:
                reason, detail = _SKIPPED[prefix]
                skipped.append(Skipped(str(path), reason, detail))
            elif prefix == "R":
                repeatable.append(MigrationFile(path, LAYOUT.name, "", _mode(path)))
            else:
                versioned.append(MigrationFile(path, LAYOUT.name, match.group(2), _mode(path)))
    versioned.sort(key=lambda m: _version_key(m.version))
    repeatable.sort(key=lambda m: _NAME.match(m.path.name).group(4))  # type: ignore[union-attr]
    skipped.sort(key=lambda s: s.path)
    return Listing((*versioned, *repeatable), tuple(skipped))


def _version_key(version: str) -> tuple[int, ...]:
    parts = [int(part) for part in _VERSION_PART.split(version.strip("._")) if part]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 1.0 is 1
    return tuple(parts)


def _mode(path: Path) -> Transaction:
    try:
        conf = Path(f"{path}.conf").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Transaction.UNLESS_ALL_NON_TRANSACTIONAL
    if _NOT_IN_TRANSACTION.search(conf):
        return Transaction.AUTOCOMMIT
    return Transaction.UNLESS_ALL_NON_TRANSACTIONAL


def forward(text: str, file: MigrationFile) -> Forward:
    mode = Transaction.AUTOCOMMIT if _NOT_IN_TRANSACTION.search(text) else file.transaction
    return Forward(((0, len(text)),), mode)


LAYOUT = Layout(
    name="flyway",
    summary="V<version>__<description>.sql in version order, then R__ repeatables; undo and "
    "baseline skipped; ${placeholders} substituted",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
