"""pop and popx (Go, gobuffalo and ory): `<version>_<name>[.<dialect>][.autocommit].up.sql`.

Versions apply in string order. For each version a file for the `postgres` dialect replaces
the dialect-neutral one; files for other dialects (`mysql`, `sqlite3`, `cockroach`) are for
other engines. `.down.sql` files are down migrations and `.fizz` files are pop's own
language. Each migration runs in a transaction, except popx's `.autocommit.` files. Files may
hold Go templates (`{{ index .Options "Namespace" }}`), which pop expands first.
"""

from __future__ import annotations

import re
from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Layout,
    Listing,
    MigrationFile,
    Skipped,
    SkipReason,
    Transaction,
    first_line,
    matching,
)
from bgmigrate.source.layouts.engines import other_engine_by_name
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_NAME = LazyPattern(
    r"^(\d+)_([^.]+)(?:\.([a-z0-9]+))??(\.autocommit)?\.(up|down)\.(sql|fizz)$", re.IGNORECASE
)
_UP_DOWN = (".up.sql", ".down.sql", ".up.fizz", ".down.fizz")
_POSTGRES = frozenset({"postgres", "postgresql", "pg"})
_TEMPLATE = "{{"


def detect(entries: Entries) -> bool:
    names = [name for name in entries.files if name.lower().endswith((".sql", ".fizz"))]
    if not all(name.lower().endswith(_UP_DOWN) for name in names):
        return False  # before the pattern is compiled, in most directories
    matches = [_NAME.match(name) for name in names]
    if not names or not all(matches):
        return False
    if any(m and (m.group(3) or m.group(4) or m.group(6).lower() == "fizz") for m in matches):
        return True
    # Plain `.up.sql` names are golang-migrate's too; pop's files are Go templates.
    up = sorted(name for name in names if name.lower().endswith(".up.sql"))
    return bool(up) and _TEMPLATE in first_line(entries.directory / up[0], 4096)


def migrations(directory: Path) -> Listing:
    chosen: dict[str, list[tuple[bool, MigrationFile]]] = {}
    skipped = []
    for match in matching(directory, _NAME):
        path = directory / match.string
        version, dialect, autocommit = (
            match.group(1),
            (match.group(3) or "").lower(),
            match.group(4),
        )
        if match.group(5).lower() == "down":
            skipped.append(Skipped(str(path), SkipReason.DOWN, "a .down file"))
        elif match.group(6).lower() == "fizz":
            skipped.append(Skipped(str(path), SkipReason.NOT_SQL, "a fizz migration"))
        elif dialect and dialect not in _POSTGRES:
            engine = other_engine_by_name((match.string,)) or dialect
            skipped.append(Skipped(str(path), SkipReason.OTHER_ENGINE, engine))
        else:
            mode = Transaction.AUTOCOMMIT if autocommit else Transaction.WRAPPED
            migration = MigrationFile(path, LAYOUT.name, version, mode)
            chosen.setdefault(version, []).append((bool(dialect), migration))
    found = []
    for version in sorted(chosen):
        # The postgres file of a version replaces its dialect-neutral one.
        candidates = chosen[version]
        has_specific = any(specific for specific, _ in candidates)
        for specific, migration in candidates:
            if specific or not has_specific:
                found.append(migration)
            else:
                detail = "replaced by this version's .postgres. file"
                skipped.append(Skipped(str(migration.path), SkipReason.OTHER_ENGINE, detail))
    return Listing(tuple(found), tuple(skipped))


LAYOUT = Layout(
    name="pop",
    summary="<version>_<name>[.postgres].up.sql in version order (pop, popx); in a "
    "transaction unless .autocommit.",
    detect=detect,
    migrations=migrations,
)
