"""The check cache: an unchanged run's report, reused.

A verdict depends on more than its own file: a table created by an earlier migration makes an
index on it old, one created earlier in the change (`--since`) makes it new, and the layout and
transaction mode decide what runs where. So an entry is the result of a whole run, keyed by
everything that reaches a verdict: the very code installed (each module's size and
modification time, bgmigrate's and the parser's and PyYAML's), the Python version, the working
directory, the config, the active rules with their severities, the target PostgreSQL version,
the files changed and added since `--since`, stdin's text, and every migration found, in
order, with its layout, its transaction mode and the bytes of its file. Change any of them,
and the run is checked anew.

An entry is its key, a slot with its length and checksum (and the little a run needs before
its report: the worst severity, the units read), then its data: a report's text, or a run's
units and findings as batches of plain values (strings, numbers, lists) in `marshal`'s format,
three times quicker to load than the same as JSON. Neither is ever held whole: a run writes
its entry as it checks, and a hit copies a report's text to stdout piece by piece, or hands
a run's batches one by one to the report being written. An entry is written to a temporary
file and renamed into place, so concurrent runs never see half an entry. An entry that is not
exactly what this code wrote under this key (truncated, damaged, edited, another version's,
not bgmigrate's) is a miss: its key, length and checksum must match before it is decoded.

Runs that read Alembic revisions are not cached: what a revision runs depends on the code it
imports, which no key here covers.

The cache lives in `.bgmigrate_cache/` beside the config file (else in the working directory),
which holds a `.gitignore` that ignores it whole; `BGMIGRATE_CACHE_DIR` names another folder.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import marshal
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from bgmigrate.check.finding import Category, Finding, Severity
from bgmigrate.check.report.stream import ReportWriter, Sink, StreamBroken
from bgmigrate.check.result import CheckedUnit
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped, SkipReason
from bgmigrate.source.unit import Location, Phase, UnitKind
from bgmigrate.values import field_names

try:  # hashlib's own import loads OpenSSL first: 2 ms of every run
    from _blake2 import blake2b
except ImportError:  # an interpreter without CPython's built-in BLAKE2
    from hashlib import blake2b

__all__ = [
    "CACHE_DIRECTORY",
    "CheckCache",
    "CheckKey",
    "KeyBeforeFiles",
    "RunRecorder",
    "StoredReport",
    "cache_directory",
]

CACHE_DIRECTORY = ".bgmigrate_cache"
ENVIRONMENT = "BGMIGRATE_CACHE_DIR"
_FORMAT = b"bgmigrate-check-cache 2\n"
"""The start of every entry, before its key: a change to what an entry holds changes it."""
_SLOT = 64
"""The bytes after the key that hold the entry's length, checksum and values (marshal)."""
_KEPT = 64
"""Entries kept: a pre-commit hook checks a different set of files at each commit."""
_LIBRARIES = ("pglast", "yaml")
"""The libraries whose reading of a migration decides its operations."""
_GITIGNORE = "# Written by bgmigrate: its check cache, never committed.\n*\n"
_CHUNK = 1 << 16
_BATCH = 256
"""Units or findings groups per marshalled batch of a run's entry."""


def cache_directory(root: Path) -> Path:
    """Where the cache of a project whose config (or working directory) is `root` lives."""
    named = os.environ.get(ENVIRONMENT)
    return Path(named) if named else root / CACHE_DIRECTORY


class StoredReport:
    """A report found in the cache, with what the exit code and the notes need: the highest
    severity of an unsuppressed finding, whether `--since` reported any unit, and how many
    units were read. Its text is read from the entry as it is copied (`chunks`)."""

    def __init__(
        self, entry: BinaryIO, worst: Severity | None, reported_any: bool, units: int
    ) -> None:
        self._entry = entry
        self.worst, self.reported_any, self.units = worst, reported_any, units

    def chunks(self) -> Iterator[str]:
        with self._entry:
            text = io.TextIOWrapper(
                self._entry, encoding="utf-8", errors="surrogatepass", newline=""
            )
            while chunk := text.read(_CHUNK):
                yield chunk

    def copy_to(self, out: Sink) -> str:
        """Write the report to `out`, and return its last character ("" when it is empty)."""
        last = ""
        for chunk in self.chunks():
            out.write(chunk)
            last = chunk[-1]
        return last

    def close(self) -> None:
        self._entry.close()


class CheckKey:
    """Everything one run's verdicts depend on, hashed as it is added."""

    def __init__(self) -> None:
        self._hash = blake2b(digest_size=32)
        self.add(_FORMAT, sys.version, _installed_code())

    def add(self, *parts: object) -> None:
        """Parts made of str, int, bool, None, bytes and tuples or lists of them."""
        for part in parts:
            if isinstance(part, str):
                part = part.encode(errors="surrogateescape")
                kind = b"s"
            elif isinstance(part, bytes):
                kind = b"b"
            else:
                part = json.dumps(part, default=repr).encode()
                kind = b"j"
            # Each part's kind and length first: no two sequences of parts hash alike.
            self._hash.update(b"%s%d:" % (kind, len(part)))
            self._hash.update(part)

    def add_rules(self, rules: Iterable[Rule]) -> None:
        self.add([(rule.name, rule.severity.value, rule.category.value) for rule in rules])

    def add_file(self, path: str | Path) -> None:
        """A migration file's bytes (what it is and how it is read are in the discovery)."""
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as error:
            data = f"unreadable: {error}".encode()
        self.add(data)

    def copy(self) -> CheckKey:
        key = CheckKey.__new__(CheckKey)
        key._hash = self._hash.copy()
        return key

    def report(self, report_format: str, color: bool) -> CheckKey:
        """The key of this run's report in `report_format`: a report is made from the result
        alone (never from the environment), so the run and the format decide it."""
        key = self.copy()
        key.add("report", report_format, color)
        return key

    @property
    def digest(self) -> bytes:
        return self._hash.digest()


class KeyBeforeFiles:
    """A run's key but for its migration files' bytes, and the files' paths: the bytes are
    hashed when the run starts and again before its entry is stored (a file edited while it
    was checked belongs to neither key), and the run needs to hold nothing else of its files
    in between (their discovered objects are let go once read)."""

    def __init__(self, key: CheckKey, paths: tuple[str, ...]) -> None:
        self._key = key
        self._paths = paths

    def with_files(self) -> CheckKey:
        """The whole key, the files as they are now."""
        key = self._key.copy()
        for path in self._paths:
            key.add_file(path)
        return key


class CheckCache:
    """The entries under one cache directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def replay(self, key: CheckKey, *reports: ReportWriter) -> bool | None:
        """Hand the run cached under `key` to `reports` as the run did, finishing them, and
        return whether `--since` reported any unit; None (and nothing handed) when there is
        no such run or it cannot be read. Raises `StreamBroken` when a batch cannot be
        decoded after others were handed."""
        found = self._open(key)
        if found is None:
            return None
        entry, values = found
        with entry:
            if len(values) != 1 or not isinstance(values[0], bool):
                return None
            try:
                for batch in _batches(entry):
                    for record in batch:
                        _replay(record, reports)
            except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError):
                # Matched its checksum, so written by this code: only another version of
                # bgmigrate with this format line could get here. The reports are unusable.
                raise StreamBroken("a cached run could not be decoded") from None
        reported_any: bool = values[0]
        return reported_any

    def recorder(self, key: CheckKey) -> RunRecorder | None:
        """A run's entry, written as the run goes (`RunRecorder`); None without a cache."""
        entry = self._create(key)
        return None if entry is None else RunRecorder(entry)

    def load_report(self, key: CheckKey) -> StoredReport | None:
        """The report cached under `key` (a run's key with its format, `CheckKey.report`)."""
        found = self._open(key)
        if found is None:
            return None
        entry, values = found
        try:
            worst, reported_any, units = values
            if isinstance(reported_any, bool) and isinstance(units, int) and units >= 0:
                severity = None if worst is None else _SEVERITIES[worst]
                return StoredReport(entry, severity, reported_any, units)
        except (ValueError, TypeError, KeyError):
            pass
        entry.close()
        return None

    def store_report(
        self,
        key: CheckKey,
        chunks: Iterable[bytes],
        worst: Severity | None,
        *,
        reported_any: bool,
        units: int,
    ) -> None:
        """Store a report's text, written piece by piece (in UTF-8, a lone surrogate as
        `surrogatepass` encodes it: as `StoredReport` reads it)."""
        entry = self._create(key)
        if entry is None:
            return
        for chunk in chunks:
            entry.write(chunk)
        entry.commit([None if worst is None else worst.value, reported_any, units])

    def _open(self, key: CheckKey) -> tuple[BinaryIO, list[Any]] | None:
        """The entry under `key`, its length and checksum matched, positioned at its data;
        with the values of its slot. None when there is none or it is not exactly what this
        code wrote there."""
        header = _FORMAT + key.digest
        try:
            entry = open(self._entry(key), "rb")  # noqa: SIM115 (returned open)
        except OSError:
            return None
        try:
            start = entry.read(len(header) + _SLOT)
            if len(start) == len(header) + _SLOT and start.startswith(header):
                length, checksum, *values = marshal.loads(start[len(header) :])
                if _checksum_of(entry) == (length, checksum):
                    entry.seek(len(header) + _SLOT)
                    return entry, values
        except (OSError, EOFError, ValueError, TypeError):
            pass
        entry.close()
        return None

    def _create(self, key: CheckKey) -> _EntryWriter | None:
        """A new entry for `key`, in a temporary file until it is committed."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                _write_atomically(ignore, _GITIGNORE.encode())
            return _EntryWriter(self, self._entry(key), _FORMAT + key.digest)
        except OSError:
            return None

    def _entry(self, key: CheckKey) -> Path:
        return self.directory / f"check-{key.digest.hex()[:40]}"

    def _prune(self) -> None:
        """Keep the most recently written entries; another run may be removing them too."""
        entries = []
        for entry in os.scandir(self.directory):
            if entry.name.startswith("check-"):
                try:
                    entries.append((entry.stat().st_mtime_ns, entry.path))
                except OSError:
                    continue
        for _, path in sorted(entries, reverse=True)[_KEPT:]:
            try:
                os.unlink(path)
            except OSError:
                continue


class _EntryWriter:
    """An entry being written: its key, a slot, then its data, in a temporary file renamed
    into place by `commit`. A write that fails makes it no entry, never a failed run."""

    def __init__(self, cache: CheckCache, path: Path, header: bytes) -> None:
        self._cache, self._path = cache, path
        self._temporary = path.parent / f".tmp-{os.getpid()}-{os.urandom(8).hex()}"
        descriptor = os.open(self._temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self._file: BinaryIO | None = os.fdopen(descriptor, "wb")
        self._slot_at = len(header)
        self._length, self._checksum = 0, 0
        self._guarded(lambda file: file.write(header + bytes(_SLOT)))

    def write(self, data: bytes) -> None:
        self._length += len(data)
        self._checksum = zlib.crc32(data, self._checksum)
        self._guarded(lambda file: file.write(data))

    def commit(self, values: list[object]) -> None:
        """Write the slot and rename the entry into place."""
        slot = marshal.dumps([self._length, self._checksum, *values])

        def finish(file: BinaryIO) -> None:
            file.seek(self._slot_at)
            file.write(slot.ljust(_SLOT, b"\0"))
            file.close()
            os.replace(self._temporary, self._path)
            self._cache._prune()

        if len(slot) <= _SLOT:
            self._guarded(finish)
        self.discard()

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            with contextlib.suppress(OSError):
                os.unlink(self._temporary)

    def _guarded(self, action: Callable[[BinaryIO], object]) -> None:
        if self._file is None:
            return
        try:
            action(self._file)
        except OSError:
            self.discard()
        except BaseException:
            self.discard()
            raise


class RunRecorder(ReportWriter):
    """A run's entry, written as the run hands its units and findings over: batches of
    plain values, a unit or one path's findings each. `commit` stores it, `discard` not."""

    def __init__(self, entry: _EntryWriter) -> None:
        super().__init__(io.StringIO(), {}, color=False, pg_version=0, layouts=())
        self._entry = entry
        self._batch: list[object] = []

    def _unit(self, unit: CheckedUnit) -> None:
        self._add(["u", unit.path, unit.kind.value, unit.phase.value, unit.statements])

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        shown = None if unit is None else _unit_row(unit)
        self._add(["f", shown, [_finding_row(finding) for finding in findings]])

    def finish(self, skipped: Sequence[Skipped]) -> None:
        rows = [[s.path, s.reason.value, s.detail, s.line, s.end_line] for s in skipped]
        self._add(["s", rows])
        self._flush()

    def commit(self, *, reported_any: bool) -> None:
        self._entry.commit([reported_any])

    def discard(self) -> None:
        self._entry.discard()

    def _add(self, record: object) -> None:
        self._batch.append(record)
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        data = marshal.dumps(self._batch)
        self._entry.write(len(data).to_bytes(4, "big") + data)
        self._batch = []


def _write_atomically(path: Path, data: bytes) -> None:
    """Written under a name no other run uses, then renamed over `path` (atomic on POSIX and
    Windows alike). tempfile would do the same and cost a pre-commit run 3 ms to import."""
    temporary = path.parent / f".tmp-{os.getpid()}-{os.urandom(8).hex()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


@functools.cache  # once per process: a run computes its key again after checking
def _installed_code() -> list[tuple[str, int, int]]:
    """Each file of the bgmigrate package installed, and of the libraries that read the
    migrations (pglast's libpg_query, PyYAML), with its size and modification time: an edited
    rule in a development install, or an upgraded parser, is a new key though the version of
    bgmigrate is not."""
    from importlib.machinery import PathFinder

    roots = [Path(__file__).resolve().parent.parent]
    for library in _LIBRARIES:
        spec = PathFinder.find_spec(library)  # found, not imported
        roots += [Path(folder) for folder in (spec and spec.submodule_search_locations) or ()]
    files = []
    for root in roots:
        for folder, directories, names in os.walk(root):
            directories[:] = sorted(d for d in directories if d != "__pycache__")
            for name in sorted(names):
                if not name.endswith((".pyc", ".pyo")):
                    stat = os.stat(os.path.join(folder, name))
                    files.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns))
    return files


# --- a run's entry: only plain values, so a file planted in the cache can only be a miss ----


def _location(location: Location) -> list[int]:
    return [location.line, location.column, location.end_line, location.end_column]


def _unit_row(unit: CheckedUnit) -> list[object]:
    return [unit.path, unit.kind.value, unit.phase.value, unit.statements, unit.text]


def _finding_row(f: Finding) -> list[object]:
    return [
        f.rule,
        f.category.value,
        f.severity.value,
        f.path,
        _location(f.location),
        f.statement,
        f.message,
        f.safe_alternative,
        f.suppressed,
        f.suppression_reason,
    ]


_CATEGORIES = {category.value: category for category in Category}
_SEVERITIES = {severity.value: severity for severity in Severity}
_FINDING_FIELDS = field_names(Finding)
_LOCATION_FIELDS = field_names(Location)
_UNIT_FIELDS = field_names(CheckedUnit)


def _checksum_of(entry: BinaryIO) -> tuple[int, int]:
    """The length and checksum of the rest of `entry`."""
    length, checksum = 0, 0
    while data := entry.read(_CHUNK * 4):
        length += len(data)
        checksum = zlib.crc32(data, checksum)
    return length, checksum


def _batches(entry: BinaryIO) -> Iterator[list[Any]]:
    while size := entry.read(4):
        yield marshal.loads(entry.read(int.from_bytes(size, "big")))


def _replay(record: list[Any], reports: Sequence[ReportWriter]) -> None:
    """One batch's record handed to `reports` (its checksum already matched)."""
    kind = record[0]
    if kind == "u":
        _, path, unit_kind, phase, statements = record
        unit = _restored(
            CheckedUnit, _UNIT_FIELDS, [path, UnitKind(unit_kind), Phase(phase), statements, ""]
        )
        for report in reports:
            report.unit(unit)
    elif kind == "f":
        _, row, rows = record
        shown = None
        if row is not None:
            row[1], row[2] = UnitKind(row[1]), Phase(row[2])
            shown = _restored(CheckedUnit, _UNIT_FIELDS, row)
        findings = []
        for row in rows:
            row[1], row[2] = _CATEGORIES[row[1]], _SEVERITIES[row[2]]
            row[4] = _restored(Location, _LOCATION_FIELDS, row[4])
            findings.append(_restored(Finding, _FINDING_FIELDS, row))
        for report in reports:
            report.findings(shown, findings)
    else:
        skipped = [
            Skipped(path, SkipReason(reason), detail, line, end_line)
            for path, reason, detail, line, end_line in record[1]
        ]
        for report in reports:
            report.finish(skipped)


V = TypeVar("V")


def _restored(cls: type[V], fields: tuple[str, ...], values: list[Any]) -> V:
    """A frozen value from its fields' values, as written: a frozen class's `__init__` assigns
    each field through `object.__setattr__`, a third of a warm run over 10,000 findings."""
    restored = object.__new__(cls)
    vars(restored).update(zip(fields, values, strict=True))
    return restored
