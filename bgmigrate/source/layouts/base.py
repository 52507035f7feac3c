"""What a migration tool's layout tells bgmigrate about a directory of migrations.

A layout is one module under `bgmigrate/source/layouts/` defining `LAYOUT = Layout(...)`:

- `detect(entries)` looks only at the names in one directory (and at most a first line or a
  small marker file): it runs on every commit, in the pre-commit hook.
- `migrations(directory)` lists the directory's forward migrations in the tool's apply order,
  and every file the tool would not run forward with the reason (down, other engine, …).
- `forward(text, file)` says which character ranges of one migration's text run forward (a
  goose file's Up section, dbmate's `migrate:up` part), in which transaction mode, and which
  parts are left out and why.

Positions stay the user's own: the parts left out are blanked (their line breaks kept), never
cut out, so every statement's location is its place in the file the user edits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path

from bgmigrate.source.patterns import LazyPattern
from bgmigrate.source.reading import file_bytes
from bgmigrate.values import Value, field, value

__all__ = [
    "Entries",
    "Forward",
    "Layout",
    "Listing",
    "MigrationFile",
    "SkipReason",
    "Skipped",
    "Transaction",
    "first_line",
    "first_numbered_start",
    "matching",
    "numbered",
    "read_entries",
    "up_sections",
    "whole_file",
]


class Transaction(str, Enum):
    """How the tool runs one migration's statements."""

    WRAPPED = "wrapped"
    """In one transaction the tool opens and commits around the migration."""
    AUTOCOMMIT = "autocommit"
    """One statement at a time, each its own transaction unless the file opens a block."""
    ONE_QUERY = "one-query"
    """The whole file sent as one query: PostgreSQL runs a query of several statements as one
    implicit transaction, and a single statement on its own."""
    UNLESS_ALL_NON_TRANSACTIONAL = "unless-all-non-transactional"
    """In one transaction, unless every statement is one that cannot run in a transaction
    (`CONCURRENTLY`): then each on its own. A mix fails in the tool itself."""
    CONFIGURED = "configured"
    """The tool does not say (plain SQL): `assume_in_transaction` in the config decides."""


class SkipReason(str, Enum):
    """Why a file or a part of one is not checked. The value is the JSON name; `counted`
    names a number of them in the text summary."""

    DOWN = "down"
    OTHER_ENGINE = "other-engine"
    GO_MIGRATION = "go-migration"
    NOT_SQL = "not-sql"
    REVERT = "revert"
    VERIFY = "verify"
    UNDO = "undo"
    BASELINE = "baseline"
    ROLLBACK = "rollback"
    IGNORED = "ignored"
    PRECONDITION = "precondition"

    def counted(self, count: int) -> str:
        singular, plural = _NOUNS[self]
        return f"{count:,} {singular if count == 1 else plural}"


_NOUNS = {
    SkipReason.DOWN: ("down migration", "down migrations"),
    SkipReason.OTHER_ENGINE: ("file for another engine", "files for other engines"),
    SkipReason.GO_MIGRATION: ("Go migration", "Go migrations"),
    SkipReason.NOT_SQL: ("migration not in SQL", "migrations not in SQL"),
    SkipReason.REVERT: ("revert script", "revert scripts"),
    SkipReason.VERIFY: ("verify script", "verify scripts"),
    SkipReason.UNDO: ("undo migration", "undo migrations"),
    SkipReason.BASELINE: ("baseline migration", "baseline migrations"),
    SkipReason.ROLLBACK: ("rollback part", "rollback parts"),
    SkipReason.IGNORED: ("migration marked ignored", "migrations marked ignored"),
    SkipReason.PRECONDITION: ("precondition", "preconditions"),
}


@value
class Skipped(Value):
    """A file, or a part of one (`line` is then its first line), that is not checked."""

    path: str
    reason: SkipReason
    detail: str
    """What decided it, e.g. `MySQL (.mysql. in the name)`."""
    line: int | None = None
    end_line: int | None = None


@value
class MigrationFile(Value):
    """One forward migration of a layout, in the tool's apply order."""

    path: Path
    layout: str
    version: str = ""
    """The tool's own version or name for it, as its apply order reads it."""
    transaction: Transaction = Transaction.CONFIGURED
    """The mode the tool runs it in, unless the file itself says otherwise (see `Forward`)."""


@value
class Forward(Value):
    """What of one migration's text runs forward, as the tool reads it.

    `ranges` are (start, end) character offsets, end exclusive, in file order.
    `skipped` lists the parts left out as (reason, detail, start, end).
    """

    ranges: tuple[tuple[int, int], ...]
    transaction: Transaction
    skipped: tuple[tuple[SkipReason, str, int, int], ...] = ()
    changes: tuple[tuple[int, int, Transaction], ...] = ()
    """Parts the tool runs apart from each other (Liquibase's changesets), each (start, end,
    mode): their statements never share a transaction block. Statements outside every part
    run in `transaction` mode."""
    rendered: tuple[tuple[str, int, int], ...] = ()
    """Statements the tool generates or splits itself rather than as psql would read the
    ranges (a Liquibase change element rendered as SQL), each (sql, start, end): reported at
    text[start:end]."""
    comments: tuple[tuple[str, int, int], ...] = ()
    """Comments in a language other than SQL (XML's `<!-- -->`, YAML's `#`) that hold
    `bgmigrate:` tags, each (body without its markers, start, end)."""
    problems: tuple[tuple[str, str, int], ...] = ()
    """Findings the tool's own reading makes before any SQL (a changelog that does not parse),
    each (rule, message, offset)."""


def whole_file(text: str, file: MigrationFile) -> Forward:
    """The whole text runs forward, in the mode the listing gave the file."""
    return Forward(((0, len(text)),), file.transaction)


def up_sections(
    text: str, markers: Iterable[re.Match[str]], transaction: Transaction, down: str
) -> Forward:
    """A file cut at its tool's `up`/`down` markers (goose, dbmate): each marker, whose first
    group says which, opens a section that runs to the next one. Up sections run forward in
    `transaction` mode; down sections, named `down` in the report, are left out, as is text
    before the first marker (the tools ignore it; marker lines are comments either way)."""
    found = list(markers)
    ranges = []
    skipped = []
    for marker, following in zip(found, [*found[1:], None], strict=False):
        end = following.start() if following else len(text)
        if marker.group(1).lower() == "up":
            ranges.append((marker.end(), end))
        else:
            skipped.append((SkipReason.DOWN, down, marker.start(), end))
    return Forward(tuple(ranges), transaction, tuple(skipped))


def numbered(
    directory: Path,
    pattern: LazyPattern,
    layout: str,
    transaction: Transaction,
    left_out: Callable[[re.Match[str]], tuple[SkipReason, str] | None] = lambda match: None,
) -> Listing:
    """The files of `directory` that `pattern` matches, in the numeric order of its first
    group (the version), each a migration in `transaction` mode, except those that `left_out`
    gives a reason (and a detail) for."""
    found = []
    skipped = []
    for match in matching(directory, pattern):
        path = directory / match.string
        reason = left_out(match)
        if reason is None:
            found.append(MigrationFile(path, layout, match.group(1), transaction))
        else:
            skipped.append(Skipped(str(path), *reason))
    found.sort(key=lambda migration: int(migration.version))  # stable: natural order within
    return Listing(tuple(found), tuple(skipped))


def matching(directory: Path, pattern: LazyPattern) -> list[re.Match[str]]:
    """The file names in `directory` that `pattern` matches, in natural order."""
    from bgmigrate.source.natural_order import natural_name_key

    try:
        names = [entry.name for entry in os.scandir(directory) if not entry.is_dir()]
    except OSError:
        return []
    names.sort(key=natural_name_key)
    return [match for name in names if (match := pattern.match(name)) is not None]


def first_numbered_start(entries: Entries, name: LazyPattern) -> str:
    """The start of the first (by name) numbered `.sql` file of the directory that `name`
    matches: where goose, sql-migrate and dbmate write their markers; "" when there is none."""
    first = next((n for n in entries.numbered_sql if name.match(n)), None)
    return first_line(entries.directory / first, 2048) if first is not None else ""


def first_line(path: str | Path, size: int = 512) -> str:
    """The start of a file (its first `size` bytes, decoded leniently): enough for the
    markers tools put at the top."""
    return first_bytes(path, size).decode("utf-8", errors="replace")


def first_bytes(path: str | Path, size: int) -> bytes:
    """A file's first `size` bytes; none when it cannot be read."""
    try:
        return file_bytes(path, size)
    except OSError:
        return b""


@value
class Entries(Value):
    """The names in one directory, read once and shared by every layout's `detect` and, when
    none claims it, by the walk that lists its plain SQL."""

    directory: Path
    files: frozenset[str]
    directories: frozenset[str]
    """Including those reached through a symbolic link."""
    numbered_sql: tuple[str, ...] = field(init=False, default=())
    """The `.sql` files whose name starts with a digit, in order: the three layouts that look
    at the first one share one sort."""
    linked: frozenset[str] = frozenset()
    """The directories reached through a symbolic link: the walk does not enter them (as
    `os.walk`)."""
    unreadable: str | None = None
    """Why the directory could not be listed (then it has no names)."""

    def __post_init__(self) -> None:
        numbered = (n for n in self.files if n[:1].isdigit() and n.endswith(".sql"))
        self.numbered_sql = tuple(sorted(numbered))


@value
class Listing(Value):
    """A layout's reading of a directory: its forward migrations in apply order, and the files
    it leaves out."""

    migrations: tuple[MigrationFile, ...]
    skipped: tuple[Skipped, ...] = ()


@value
class Layout(Value):
    """A migration tool's conventions. `name` is what the config and the report call it."""

    name: str
    summary: str
    detect: Callable[[Entries], bool]
    migrations: Callable[[Path], Listing]
    forward: Callable[[str, MigrationFile], Forward] = whole_file


def read_entries(directory: Path) -> Entries:
    """The non-hidden names in `directory`, split into files and directories."""
    files: set[str] = set()
    directories: set[str] = set()
    linked: set[str] = set()
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    is_directory = entry.is_dir()
                except OSError:
                    is_directory = False
                if not is_directory:
                    files.add(name)
                    continue
                directories.add(name)
                if entry.is_symlink():
                    linked.add(name)
    except OSError as error:
        why = error.strerror or str(error)
        return Entries(directory, frozenset(), frozenset(), unreadable=why)
    return Entries(directory, frozenset(files), frozenset(directories), frozenset(linked))
