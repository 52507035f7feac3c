"""Paths on the command line → the migration files they hold, in migration order.

SQL files come in natural filename order (`2_x.sql` before `10_x.sql`); Alembic revisions are
only found here, and `bgmigrate.source.alembic` orders them by their revision graph.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from bgmigrate.source.errors import SourceError
from bgmigrate.values import Value, frozen_value

__all__ = [
    "Discovered",
    "discover",
    "is_alembic_revision",
    "natural_key",
    "read_source_text",
]

# Directories that hold tooling, caches or installed packages, never a project's migrations.
_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "venv", "site-packages"})
_REVISION_ID = re.compile(r"^revision\s*(?::[^=\n]*)?=", re.MULTILINE)
_UPGRADE = re.compile(r"^def\s+upgrade\s*\(", re.MULTILINE)
_DIGITS = re.compile(r"(\d+)")


@frozen_value
class Discovered(Value):
    """The migrations under some paths: SQL files in natural order, Alembic revision files in
    path order (their graph decides the migration order)."""

    sql_files: tuple[Path, ...] = ()
    alembic_revisions: tuple[Path, ...] = ()


def discover(paths: Sequence[str | Path]) -> Discovered:
    """The `.sql` files and Alembic revisions named by `paths` (files or directories, searched
    recursively), each listed once, in the order of the paths given."""
    sql_files: dict[Path, None] = {}
    revisions: dict[Path, None] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = _search_directory(path)
        elif path.is_file():
            found = [path]
            if not _is_sql_file(path) and not _is_revision_file(path):
                raise SourceError(
                    f"{path} is not a migration: bgmigrate checks .sql files and Alembic "
                    "revisions (.py files with `revision =` and `def upgrade`)."
                )
        elif path.exists():
            raise SourceError(f"{path} is neither a file nor a directory.")
        else:
            raise SourceError(f"{path} does not exist: check the path (or the config's paths).")
        for file in found:
            (sql_files if _is_sql_file(file) else revisions)[file] = None
    return Discovered(tuple(sql_files), tuple(revisions))


def _search_directory(root: Path) -> list[Path]:
    """The migrations under `root`, in natural order of their paths below it."""

    def fail(error: OSError) -> None:
        raise SourceError(f"Cannot read directory {error.filename}: {error.strerror}.")

    found = []
    for directory, subdirectories, files in os.walk(root, onerror=fail):
        subdirectories[:] = [name for name in subdirectories if not _skipped(directory, name)]
        for name in files:
            if name.startswith("."):
                continue
            file = Path(directory, name)
            if _is_sql_file(file) or _is_revision_file(file):
                found.append(file)
    return sorted(found, key=lambda file: natural_key(file.relative_to(root).parts))


def _skipped(directory: str, name: str) -> bool:
    return (
        name.startswith(".")
        or name in _SKIPPED_DIRECTORIES
        or os.path.exists(os.path.join(directory, name, "pyvenv.cfg"))  # a virtualenv
    )


def _is_sql_file(path: Path) -> bool:
    return path.suffix.lower() == ".sql"


def _is_revision_file(path: Path) -> bool:
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


def natural_key(parts: Iterable[str]) -> tuple[tuple[tuple[str | int, ...], ...], str]:
    """A sort key for path components where digit runs compare as numbers, case-insensitively:
    `2_x.sql` < `10_x.sql`. Ties (`01_x` and `1_x`) fall back to the exact text."""
    parts = tuple(parts)
    return tuple(_natural_part(part) for part in parts), "/".join(parts)


def _natural_part(part: str) -> tuple[str | int, ...]:
    # split() with a group alternates text and digits, so equal positions hold equal types.
    return tuple(
        int(piece) if index % 2 else piece.casefold()
        for index, piece in enumerate(_DIGITS.split(part))
    )


def read_source_text(path: Path) -> str:
    """A migration file's text: UTF-8, byte order mark removed."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"Cannot read {path}: {error.strerror or error}.") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SourceError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}): "
            "save it as UTF-8."
        ) from error
