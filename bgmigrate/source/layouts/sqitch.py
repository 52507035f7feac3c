"""sqitch: changes deployed in the order of `sqitch.plan`, each from `deploy/<change>.sql`.

A reworked change keeps its earlier script as `deploy/<change>@<tag>.sql`, named after the
first tag that follows that earlier entry in the plan. `revert/` and `verify/` scripts never
run forward. sqitch runs each script with psql as it is (scripts hold their own BEGIN/COMMIT).
A project whose `sqitch.conf` names another engine is skipped.
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
from bgmigrate.source.layouts.engines import other_engine_of_directory
from bgmigrate.source.patterns import LazyPattern

__all__ = ["LAYOUT"]

_PLAN = "sqitch.plan"
_CHANGE = LazyPattern(r"^[+]?([^\s@#:%+\-][^\s@#:]*)")
_TAG = LazyPattern(r"^@(\S+)")
_ENGINE = LazyPattern(r"(?m)^\s*engine\s*=\s*(\w+)")
_OTHER_DIRECTORIES = (("revert", SkipReason.REVERT), ("verify", SkipReason.VERIFY))


def detect(entries: Entries) -> bool:
    return _PLAN in entries.files


def migrations(directory: Path) -> Listing:
    engine = _engine(directory)
    deploy = directory / "deploy"
    planned = _planned(directory / _PLAN)
    scripts = []
    for change, tag in planned:
        reworked = deploy / f"{change}@{tag}.sql" if tag else None
        path = reworked if reworked is not None and reworked.is_file() else deploy / f"{change}.sql"
        scripts.append(MigrationFile(path, LAYOUT.name, change, Transaction.AUTOCOMMIT))
    skipped = [
        Skipped(str(path), reason, f"a {folder}/ script")
        for folder, reason in _OTHER_DIRECTORIES
        for path in sorted((directory / folder).glob("*.sql"))
    ]
    if engine is not None:
        skipped = [Skipped(str(m.path), SkipReason.OTHER_ENGINE, engine) for m in scripts] + skipped
        scripts = []
    return Listing(tuple(scripts), tuple(skipped))


def _planned(plan: Path) -> list[tuple[str, str]]:
    """Each change of the plan in order, with the rework tag of an entry that a later entry
    of the same name reworks ("" for the last entry of each name)."""
    try:
        lines = plan.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    entries: list[tuple[str, int]] = []
    tags: list[tuple[int, str]] = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        if (tag := _TAG.match(stripped)) is not None:
            tags.append((number, tag.group(1)))
        elif stripped and not stripped.startswith(("%", "#", "-")):
            change = _CHANGE.match(stripped)
            if change is not None:
                entries.append((change.group(1), number))
    last = {change: number for change, number in entries}
    planned = []
    for change, number in entries:
        tag = ""
        if number != last[change]:
            tag = next((name for at, name in tags if at > number), "")
        planned.append((change, tag))
    return planned


def _engine(directory: Path) -> str | None:
    """The engine `sqitch.conf` names, when not PostgreSQL."""
    try:
        conf = (directory / "sqitch.conf").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = _ENGINE.search(conf)
    if found is None or found.group(1).lower() in {"pg", "postgres", "postgresql"}:
        return None
    return other_engine_of_directory(found.group(1)) or found.group(1)


LAYOUT = Layout(
    name="sqitch",
    summary="deploy/<change>.sql in sqitch.plan order (reworked: <change>@<tag>.sql); revert/ "
    "and verify/ skipped",
    detect=detect,
    migrations=migrations,
)
