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

An entry is its key, a checksum, then plain values (strings, numbers, lists) in `marshal`'s
format, three times quicker to load than the same as JSON; it is written to a temporary file
and renamed into place, so concurrent runs never see half an entry. An entry that is not
exactly what this code wrote under this key (truncated, damaged, edited, another version's,
not bgmigrate's) is a miss: its key and checksum must match before it is decoded.

Runs that read Alembic revisions are not cached: what a revision runs depends on the code it
imports, which no key here covers.

The cache lives in `.bgmigrate_cache/` beside the config file (else in the working directory),
which holds a `.gitignore` that ignores it whole; `BGMIGRATE_CACHE_DIR` names another folder.
"""

from __future__ import annotations

import functools
import json
import marshal
import os
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from bgmigrate.check.finding import Category, Finding, Severity
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped, SkipReason
from bgmigrate.source.unit import Location, Phase, UnitKind
from bgmigrate.values import field_names

try:  # hashlib's own import loads OpenSSL first: 2 ms of every run
    from _blake2 import blake2b
except ImportError:  # an interpreter without CPython's built-in BLAKE2
    from hashlib import blake2b

__all__ = ["CACHE_DIRECTORY", "Cached", "CachedReport", "CheckCache", "cache_directory"]

CACHE_DIRECTORY = ".bgmigrate_cache"
ENVIRONMENT = "BGMIGRATE_CACHE_DIR"
_FORMAT = b"bgmigrate-check-cache 1\n"
"""The start of every entry, before its key: a change to what an entry holds changes it."""
_KEPT = 64
"""Entries kept: a pre-commit hook checks a different set of files at each commit."""
_LIBRARIES = ("pglast", "yaml")
"""The libraries whose reading of a migration decides its operations."""
_GITIGNORE = "# Written by bgmigrate: its check cache, never committed.\n*\n"


def cache_directory(root: Path) -> Path:
    """Where the cache of a project whose config (or working directory) is `root` lives."""
    named = os.environ.get(ENVIRONMENT)
    return Path(named) if named else root / CACHE_DIRECTORY


class Cached:
    """A cached run: its result and whether `--since` reported any unit."""

    def __init__(self, result: CheckResult, reported_any: bool) -> None:
        self.result, self.reported_any = result, reported_any


class CachedReport:
    """A run's report as one format rendered it, with what the exit code and the notes need:
    the highest severity of an unsuppressed finding, whether `--since` reported any unit, and
    how many units were read."""

    def __init__(self, text: str, worst: Severity | None, reported_any: bool, units: int) -> None:
        self.text, self.worst, self.reported_any, self.units = text, worst, reported_any, units


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

    def add_file(self, path: Path) -> None:
        """A migration file's bytes (what it is and how it is read are in the discovery)."""
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as error:
            data = f"unreadable: {error}".encode()
        self.add(data)

    def report(self, report_format: str, color: bool) -> CheckKey:
        """The key of this run's report in `report_format`: a report is made from the result
        alone (never from the environment), so the run and the format decide it."""
        key = CheckKey.__new__(CheckKey)
        key._hash = self._hash.copy()
        key.add("report", report_format, color)
        return key

    @property
    def digest(self) -> bytes:
        return self._hash.digest()


class CheckCache:
    """The entries under one cache directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: CheckKey) -> Cached | None:
        """The run cached under `key`; None when there is none or it cannot be read."""
        try:
            entry = self._read(key)
            return None if entry is None else _decode(entry)
        except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None

    def store(self, key: CheckKey, result: CheckResult, *, reported_any: bool) -> None:
        """Write the entry atomically; a cache that cannot be written is no cache."""
        self._write(key, _encode(Cached(result, reported_any)))

    def load_report(self, key: CheckKey) -> CachedReport | None:
        """The report cached under `key` (a run's key with its format, `CheckKey.report`)."""
        entry = self._read(key)
        try:
            text, worst, reported_any, units = entry  # type: ignore[misc]
            if not (isinstance(text, str) and isinstance(reported_any, bool) and units >= 0):
                return None
            severity = None if worst is None else _SEVERITIES[worst]
            return CachedReport(text, severity, reported_any, units)
        except (ValueError, TypeError, KeyError):
            return None

    def store_report(self, key: CheckKey, report: CachedReport) -> None:
        worst = None if report.worst is None else report.worst.value
        self._write(key, [report.text, worst, report.reported_any, report.units])

    def _read(self, key: CheckKey) -> Any:
        """The plain values stored under `key`; None when there are none or they cannot be
        read (their key and checksum are matched before they are decoded)."""
        header = _FORMAT + key.digest
        try:
            data = self._entry(key).read_bytes()
            checksum, payload = data[len(header) : len(header) + 4], data[len(header) + 4 :]
            if not data.startswith(header) or checksum != _checksum(payload):
                return None
            return marshal.loads(payload)
        except (OSError, EOFError, ValueError, TypeError):
            return None

    def _write(self, key: CheckKey, values: object) -> None:
        """Write the entry atomically; a cache that cannot be written is no cache."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                _write_atomically(ignore, _GITIGNORE.encode())
            payload = marshal.dumps(values)
            entry = _FORMAT + key.digest + _checksum(payload) + payload
            _write_atomically(self._entry(key), entry)
            self._prune()
        except OSError:
            return

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


def _checksum(payload: bytes) -> bytes:
    """Catches an entry damaged after it was written (a disk, a hand) before it is decoded."""
    return zlib.crc32(payload).to_bytes(4, "big")


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


# --- the entry: only plain values, so a file planted in the cache can only be a miss -----


def _location(location: Location) -> list[int]:
    return [location.line, location.column, location.end_line, location.end_column]


def _encode(cached: Cached) -> dict[str, object]:
    result = cached.result
    return {
        "reported_any": cached.reported_any,
        "pg_version": result.pg_version,
        "units": [
            [u.path, u.kind.value, u.phase.value, u.statements, u.text] for u in result.units
        ],
        "findings": [
            [
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
            for f in result.findings
        ],
        "skipped": [[s.path, s.reason.value, s.detail, s.line, s.end_line] for s in result.skipped],
    }


_CATEGORIES = {category.value: category for category in Category}
_SEVERITIES = {severity.value: severity for severity in Severity}
_FINDING_FIELDS = field_names(Finding)
_LOCATION_FIELDS = field_names(Location)
_UNIT_FIELDS = field_names(CheckedUnit)


def _decode(entry: Any) -> Cached:
    """The entry back as a result (its checksum already matched); a wrong shape raises."""
    units = []
    for row in entry["units"]:
        row[1], row[2] = UnitKind(row[1]), Phase(row[2])
        units.append(_restored(CheckedUnit, _UNIT_FIELDS, row))
    findings = []
    for row in entry["findings"]:
        row[1], row[2] = _CATEGORIES[row[1]], _SEVERITIES[row[2]]
        row[4] = _restored(Location, _LOCATION_FIELDS, row[4])
        findings.append(_restored(Finding, _FINDING_FIELDS, row))
    skipped = [
        Skipped(path, SkipReason(reason), detail, line, end_line)
        for path, reason, detail, line, end_line in entry["skipped"]
    ]
    result = CheckResult(units, findings, entry["pg_version"], skipped=skipped)
    return Cached(result, entry["reported_any"])


V = TypeVar("V")


def _restored(cls: type[V], fields: tuple[str, ...], values: list[Any]) -> V:
    """A frozen value from its fields' values, as written: a frozen class's `__init__` assigns
    each field through `object.__setattr__`, a third of a warm run over 10,000 findings."""
    restored = object.__new__(cls)
    vars(restored).update(zip(fields, values, strict=True))
    return restored
