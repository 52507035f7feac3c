"""How `plan --format sql --out DIR` names its files: after the directory's own scheme.

A migrations directory orders its files by a version in their names: a sequence (`0007_…`,
`V7__…`) or a timestamp (`20240501120000_…`, diesel's `2024-05-01-120000_…`, Unix seconds).
New files take the next versions in the same width, separator and kind, so that they sort, and
run, after every existing migration. The layout's conventions come with it: goose's,
sql-migrate's and dbmate's Up markers (no transaction: the plan's files hold their own
`BEGIN … COMMIT` and `CONCURRENTLY` statements), golang-migrate's `.up.sql`, Flyway's
`V…__`, diesel's folder holding `up.sql` and `down.sql`. An empty or new directory gets `01_…`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = ["NamingScheme", "detect_scheme"]

_VERSIONED = re.compile(
    r"^(?P<prefix>V?)(?P<version>\d{4}-\d{2}-\d{2}-\d{6}|\d+)(?:(?P<separator>__|_|-)(?P<rest>.+))?$"
)
"""A versioned name: a version, then a separator and words (a bare version, `1684929840`,
is a name too: sql-migrate and goose take any numbered file)."""
_DIESEL_TIME = "%Y-%m-%d-%H%M%S"
_COMPACT_TIME = "%Y%m%d%H%M%S"
_GOOSE_UP = "-- +goose Up"
_DBMATE_UP = "-- migrate:up"
_SQL_MIGRATE_UP = "-- +migrate Up"


@dataclass(frozen=True)
class NamingScheme:
    """A directory's naming: how versions look, and what a migration file is."""

    layout: str = "plain"
    """plain, goose, sql-migrate, dbmate, golang-migrate, flyway or diesel."""
    kind: str = "sequence"
    """sequence, timestamp (YYYYMMDDHHMMSS), unix (seconds) or diesel (YYYY-MM-DD-HHMMSS)."""
    width: int = 2
    prefix: str = ""
    separator: str = "_"
    word_separator: str | None = None
    """Between the words of a name, as the directory writes them (None: as the plan does)."""
    last: str = ""
    """The highest version in the directory, as written."""

    def files(self, names: list[str], now: datetime | None = None) -> list[list[str]]:
        """For each migration (named by a slug such as `rename-users-email_expand`), the
        paths to write, relative to the directory: the migration, then any companion."""
        versions = self._versions(len(names), now or datetime.now(timezone.utc))
        result = []
        for version, name in zip(versions, names, strict=True):
            words = re.sub(r"[-_]+", self.word_separator, name) if self.word_separator else name
            stem = f"{self.prefix}{version}{self.separator}{words}"
            if self.layout == "diesel":
                result.append([f"{stem}/up.sql", f"{stem}/down.sql"])
            elif self.layout == "golang-migrate":
                result.append([f"{stem}.up.sql"])
            else:
                result.append([f"{stem}.sql"])
        return result

    def wrap(self, text: str) -> str:
        """A rendered migration's text with the layout's markers."""
        if self.layout == "goose":
            # The Down section stays empty: `bgmigrate rollback` undoes a phase.
            body = _fenced(text, "-- +goose")
            return f"{_GOOSE_UP}\n-- +goose NO TRANSACTION\n{body}\n-- +goose Down\n"
        if self.layout == "sql-migrate":
            body = _fenced(text, "-- +migrate")
            return f"{_SQL_MIGRATE_UP} notransaction\n{body}\n-- +migrate Down\n"
        if self.layout == "dbmate":
            return f"{_DBMATE_UP} transaction:false\n{text}\n-- migrate:down\n"
        return text

    def _versions(self, count: int, now: datetime) -> list[str]:
        if self.kind == "sequence":
            start = int(self.last or 0) + 1
            return [f"{number:0{self.width}d}" for number in range(start, start + count)]
        last = self._time(self.last) if self.last else None
        first = now.replace(microsecond=0, tzinfo=None)
        if last is not None and first <= last:
            first = last + timedelta(seconds=1)
        return [self._format(first + timedelta(seconds=n)) for n in range(count)]

    def _time(self, version: str) -> datetime:
        if self.kind == "unix":
            return datetime.fromtimestamp(int(version), timezone.utc).replace(tzinfo=None)
        return datetime.strptime(version, _DIESEL_TIME if self.kind == "diesel" else _COMPACT_TIME)

    def _format(self, moment: datetime) -> str:
        if self.kind == "unix":
            return str(int(moment.replace(tzinfo=timezone.utc).timestamp()))
        return moment.strftime(_DIESEL_TIME if self.kind == "diesel" else _COMPACT_TIME)


def detect_scheme(directory: Path | None) -> NamingScheme:
    """The naming of the migrations already in `directory` (the default for none)."""
    if directory is None or not directory.is_dir():
        return NamingScheme()
    entries = sorted(directory.iterdir())
    folders = [e for e in entries if e.is_dir() and (e / "up.sql").is_file()]
    files = [e for e in entries if e.is_file() and e.suffix == ".sql"]
    if folders:
        return _scheme("diesel", [f.name for f in folders])
    if not files:
        return NamingScheme()
    names = [f.name[: -len(".up.sql")] if f.name.endswith(".up.sql") else f.stem for f in files]
    if any(f.name.endswith((".up.sql", ".down.sql")) for f in files):
        layout = "golang-migrate"
    elif any(f.name.startswith("V") and "__" in f.name for f in files):
        layout = "flyway"
    else:
        heads = [f.read_text(encoding="utf-8", errors="replace")[:2000] for f in files]
        if any(_GOOSE_UP in head for head in heads):
            layout = "goose"
        elif any(_SQL_MIGRATE_UP in head for head in heads):
            layout = "sql-migrate"
        elif any(_DBMATE_UP in head for head in heads):
            layout = "dbmate"
        else:
            layout = "plain"
    names = [n for n in names if not n.endswith(".down")]
    return _scheme(layout, names)


def _scheme(layout: str, names: list[str]) -> NamingScheme:
    matches = [m for m in map(_VERSIONED.match, names) if m is not None]
    if not matches:
        return NamingScheme(layout=layout)
    versions = [m["version"] for m in matches]
    if layout == "diesel":
        # diesel's own first migration is numbered 00000000000000: the rest are dates.
        versions = [v for v in versions if "-" in v] or ["1970-01-01-000000"]
    kind = _kind(versions)
    key = (lambda v: int(v)) if kind in ("sequence", "unix") else (lambda v: v)
    last = max(versions, key=key)
    rests = [m["rest"] for m in matches if m["rest"]]
    return NamingScheme(
        layout=layout,
        kind=kind,
        width=max(len(v) for v in versions) if kind == "sequence" else len(last),
        prefix=matches[0]["prefix"],
        separator=matches[-1]["separator"] or "_",
        word_separator="-" if sum("-" in r for r in rests) > sum("_" in r for r in rests) else "_",
        last=last,
    )


def _kind(versions: list[str]) -> str:
    if all("-" in v for v in versions):
        return "diesel"
    if all(len(v) == 14 and v[:2] in ("19", "20") for v in versions):
        return "timestamp"
    if all(len(v) == 10 and v.startswith("1") for v in versions):
        return "unix"
    return "sequence"


def _fenced(text: str, command: str) -> str:
    """goose and sql-migrate split a file at lines ending in `;`: a statement that spans lines
    (a DO block, a function body) is fenced with the tool's `command` StatementBegin/End so
    that it reaches the server whole."""
    out: list[str] = []
    statement: list[str] = []
    for line in text.splitlines():
        if statement or (line and not line.startswith("--") and not line.endswith(";")):
            statement.append(line)
            if line.endswith(";") and _balanced("\n".join(statement)):
                out.extend([f"{command} StatementBegin", *statement, f"{command} StatementEnd"])
                statement = []
            continue
        out.append(line)
    return "\n".join([*out, *statement]) + "\n"


def _balanced(sql: str) -> bool:
    """Whether every dollar quote in `sql` is closed (`$$`, `$body$`)."""
    return all(sql.count(tag) % 2 == 0 for tag in set(re.findall(r"\$\w*\$", sql)))
