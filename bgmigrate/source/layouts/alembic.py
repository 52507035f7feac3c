"""Alembic: a script directory (`env.py` beside `versions/`) and its revision files.

A thin adapter: it says where the revisions are and which are left out; `bgmigrate.source.
alembic` orders them by their revision graph and renders them. Several environments in one
tree (a `core` and a `tenant` directory, each with its own `env.py`) are each their own
script directory. A version directory named after another engine (`versions/sqlite` beside
`versions/postgresql`) is for that engine: skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Layout,
    Listing,
    MigrationFile,
    Skipped,
    SkipReason,
)
from bgmigrate.source.layouts.engines import other_engine_of_directory

__all__ = ["LAYOUT"]

_NOT_REVISIONS = frozenset({"__pycache__"})


def detect(entries: Entries) -> bool:
    return "env.py" in entries.files and (
        "versions" in entries.directories or "script.py.mako" in entries.files
    )


def migrations(directory: Path) -> Listing:
    from bgmigrate.source.discover import is_revision_file
    from bgmigrate.source.natural_order import natural_name_key

    revisions = []
    skipped = []
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = sorted(
            (
                name
                for name in subfolders
                if not name.startswith(".") and name not in _NOT_REVISIONS
            ),
            key=natural_name_key,
        )
        relative = Path(folder).relative_to(directory).parts
        engine = next(filter(None, map(other_engine_of_directory, relative)), None)
        for name in sorted(files, key=natural_name_key):
            path = Path(folder, name)
            if name == "env.py" or not is_revision_file(path):
                continue
            if engine is not None:
                skipped.append(Skipped(str(path), SkipReason.OTHER_ENGINE, engine))
            else:
                revisions.append(MigrationFile(path, LAYOUT.name))
    return Listing(tuple(revisions), tuple(skipped))


LAYOUT = Layout(
    name="alembic",
    summary="an Alembic script directory: revisions in revision-graph order; version "
    "directories for other engines skipped",
    detect=detect,
    migrations=migrations,
)
