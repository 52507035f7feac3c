"""Paths on the command line → the migration files they hold, in migration order.

SQL files come in natural filename order (`2_x.sql` before `10_x.sql`); Alembic revisions are
only found here, and `bgmigrate.source.alembic` orders them by their revision graph.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from bgmigrate.source.errors import SourceError
from bgmigrate.source.layouts import LAYOUTS, PLAIN, detect_layout, layout_of
from bgmigrate.source.layouts.base import (
    Layout,
    Listing,
    MigrationFile,
    Skipped,
    SkipReason,
    read_entries,
)
from bgmigrate.source.layouts.engines import other_engine_by_name, other_engine_of_directory
from bgmigrate.source.natural_order import natural_name_key
from bgmigrate.source.patterns import LazyPattern
from bgmigrate.values import Value, frozen_value

__all__ = [
    "Discovered",
    "discover",
    "is_alembic_revision",
    "is_revision_file",
]

# Directories that hold tooling, caches or installed packages, never a project's migrations.
_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "venv", "site-packages"})
_REVISION_ID = LazyPattern(r"^revision\s*(?::[^=\n]*)?=", re.MULTILINE)
_UPGRADE = LazyPattern(r"^def\s+upgrade\s*\(", re.MULTILINE)


@frozen_value
class Discovered(Value):
    """The migrations under some paths: SQL migrations in each layout's apply order (plain SQL
    in natural order), Alembic revision files in path order (their graph decides the migration
    order), the files left out with their reasons, and the layout read at each directory."""

    migrations: tuple[MigrationFile, ...] = ()
    alembic_revisions: tuple[Path, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    layouts: tuple[tuple[Path, str], ...] = ()
    """(directory, layout name) for each directory a migration tool's layout was read at."""
    unreadable: tuple[tuple[Path, str], ...] = ()
    """(directory, why) for each directory below the paths given that could not be listed."""

    @property
    def sql_files(self) -> tuple[Path, ...]:
        return tuple(migration.path for migration in self.migrations)


def discover(paths: Sequence[str | Path], layouts: Mapping[Path, str] | None = None) -> Discovered:
    """The SQL migrations and Alembic revisions named by `paths` (files or directories,
    searched recursively), each listed once, in the order of the paths given.

    `layouts` names the layout of some directories (absolute paths), where detection would
    guess otherwise."""
    found = _Found(layouts or {})
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.directory(path, named=True)
        elif path.is_file():
            found.file(path)
        elif path.exists():
            raise SourceError(f"{path} is neither a file nor a directory.")
        else:
            raise SourceError(f"{path} does not exist: check the path (or the config's paths).")
    return Discovered(
        tuple(found.migrations.values()),
        tuple(found.revisions),
        tuple(found.skipped.values()),
        tuple(found.layouts.items()),
        tuple(found.unreadable.items()),
    )


class _Found:
    """What discovery has found so far; each file is listed once, where first found."""

    def __init__(self, configured: Mapping[Path, str]) -> None:
        self.configured = configured
        self.migrations: dict[Path, MigrationFile] = {}
        self.revisions: dict[Path, None] = {}
        self.skipped: dict[str, Skipped] = {}
        self.layouts: dict[Path, str] = {}
        self.unreadable: dict[Path, str] = {}

    def directory(self, root: Path, engine: str | None = None, *, named: bool = False) -> None:
        """Every migration under `root`, in natural order of the paths below it; a directory
        that a migration tool's layout claims is listed by that layout instead. `engine`: the
        other engine that a directory above is named after (`versions/sqlite`). `named`: the
        user named `root`; when it cannot be listed there is nothing to check (a directory
        below it that cannot be listed is a finding)."""
        engine = engine or other_engine_of_directory(root.name)
        configured = self.configured.get(root)
        if configured is not None and configured != PLAIN:
            layout = LAYOUTS[configured]
            self._listing(root, layout, layout.migrations(root), engine)
            return
        # The directory's names, read once: for the layouts to judge, then for the walk.
        entries = read_entries(root)
        detected = layout_of(entries) if configured is None else None
        if detected is not None:
            self._listing(root, detected, detected.migrations(root), engine)
            return
        if entries.unreadable is not None:
            if named:
                raise SourceError(f"Cannot read directory {root}: {entries.unreadable}.")
            self.unreadable[root] = entries.unreadable  # a finding; the rest is read
            return
        directories = entries.directories - entries.linked  # as os.walk: links not entered
        for name in sorted(entries.files | entries.directories, key=natural_name_key):
            if name in directories:
                if not _skipped(str(root), name):
                    self.directory(root / name, engine)
            elif name.lower().endswith(".sql"):  # a Path only for what may be listed
                self._plain_sql(root / name, engine or other_engine_by_name((name,)))
            elif name.endswith(".py"):
                self._plain(root / name, engine)

    def file(self, path: Path) -> None:
        """One file named on its own: read as the layout of its directory reads it, so that a
        pre-commit hook given `3_x.down.sql` does not check a down migration."""
        # A file named from its own directory (`x.sql`): `.` is its parent and grandparent.
        for directory in dict.fromkeys((path.parent, path.parent.parent)):
            layout = self._layout(directory)
            if layout is None:
                continue
            listing = layout.migrations(directory)
            mine = Listing(
                tuple(m for m in listing.migrations if m.path == path),
                tuple(s for s in listing.skipped if s.path == str(path)),
            )
            if mine.migrations or mine.skipped:
                self._listing(directory, layout, mine)
                return
        if not _is_sql_file(path) and not is_revision_file(path):
            raise SourceError(
                f"{path} is not a migration: bgmigrate checks .sql files and Alembic "
                "revisions (.py files with `revision =` and `def upgrade`)."
            )
        self._plain(path, other_engine_of_directory(path.parent.name))

    def _layout(self, directory: Path) -> Layout | None:
        configured = self.configured.get(directory)
        if configured is None:
            return detect_layout(directory)
        return None if configured == PLAIN else LAYOUTS[configured]

    def _listing(
        self, directory: Path, layout: Layout, listing: Listing, engine: str | None = None
    ) -> None:
        self.layouts.setdefault(directory, layout.name)
        for migration in listing.migrations:
            relative = migration.path.relative_to(directory).parts
            other = engine or other_engine_by_name(relative)
            if other is not None:
                self._skip(Skipped(str(migration.path), SkipReason.OTHER_ENGINE, other))
            elif migration.path.suffix == ".py":
                self.revisions[migration.path] = None  # bgmigrate.source.alembic reads it
            else:
                self.migrations.setdefault(migration.path, migration)
        for skipped in listing.skipped:
            self._skip(skipped)

    def _plain(self, path: Path, engine: str | None) -> None:
        """A file no layout claims: SQL in natural order, or an Alembic revision; either is
        skipped when it is for another engine (`sqlite/1.sql`, `versions/sqlite/a1_x.py`).
        `engine`: the one its directory, or one above, is named after (None: PostgreSQL's)."""
        is_sql = _is_sql_file(path)
        if not is_sql and not is_revision_file(path):
            return
        engine = engine or other_engine_by_name((path.name,))
        if is_sql:
            self._plain_sql(path, engine)
        elif engine is not None:
            self._skip(Skipped(str(path), SkipReason.OTHER_ENGINE, engine))
        else:
            self.revisions[path] = None

    def _plain_sql(self, path: Path, engine: str | None) -> None:
        """A SQL file no layout claims, for `engine` (None: PostgreSQL)."""
        if engine is not None:
            self._skip(Skipped(str(path), SkipReason.OTHER_ENGINE, engine))
        else:
            self.migrations.setdefault(path, MigrationFile(path, PLAIN))

    def _skip(self, skipped: Skipped) -> None:
        self.skipped.setdefault(skipped.path, skipped)


def _skipped(directory: str, name: str) -> bool:
    """A directory below a path given that holds no migrations (hidden ones are not listed)."""
    return (
        name in _SKIPPED_DIRECTORIES
        or os.path.exists(os.path.join(directory, name, "pyvenv.cfg"))  # a virtualenv
    )


def _is_sql_file(path: Path) -> bool:
    return path.suffix.lower() == ".sql"


def is_revision_file(path: Path) -> bool:
    if path.suffix != ".py":
        return False
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"Cannot read {path}: {error.strerror or error}.") from error
    # Undecodable bytes cannot spoil the ASCII markers; reading the revision reports them.
    return is_alembic_revision(data.decode("utf-8", errors="replace"))


def is_alembic_revision(source: str) -> bool:
    """Whether Python source is an Alembic revision: a module-level `revision =` (typed or not)
    and a `def upgrade(`."""
    return _REVISION_ID.search(source) is not None and _UPGRADE.search(source) is not None
