"""The targets of a fleet: databases from a targets file, and tenant schemas in them.

A targets file holds one connection string per line (a URL or a libpq key/value string);
`#` starts a comment line, blank lines are skipped. `--each-schema GLOB` turns each database
into one target per schema whose name matches the glob (`*` any run of characters, `?` one),
in name order. Every target is shown by its label, which never contains a password.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bgmigrate.execute.connection import connect, one_line, redact_dsn
from bgmigrate.execute.errors import ExecutionError, UsageError
from bgmigrate.execute.gates import glob_to_like

__all__ = ["Target", "expand_schemas", "parse_targets", "read_targets"]


@dataclass(frozen=True)
class Target:
    """One database, or one schema in it when the fleet runs `--each-schema`."""

    dsn: str
    schema: str | None = None

    @property
    def database(self) -> str:
        """The connection string as it may be shown: without its password."""
        return redact_dsn(self.dsn)

    @property
    def label(self) -> str:
        return f"{self.database} schema {self.schema}" if self.schema else self.database


def parse_targets(text: str, source: str) -> list[str]:
    """The connection strings of a targets file; `source` names it in errors."""
    dsns = []
    for line in text.splitlines():
        entry = line.strip()
        if entry and not entry.startswith("#"):
            dsns.append(entry)
    if not dsns:
        raise UsageError(f"{source} lists no database: one connection string per line")
    duplicates = sorted({redact_dsn(dsn) for dsn in dsns if dsns.count(dsn) > 1})
    if duplicates:
        raise UsageError(f"{source} lists a database more than once: {', '.join(duplicates)}")
    return dsns


def read_targets(path: str, stdin: IO[str]) -> list[str]:
    """The connection strings of the targets file at `path`, or of `stdin` for `-`."""
    if path == "-":
        return parse_targets(stdin.read(), "standard input")
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise UsageError(f"cannot read --targets {path}: {error.strerror}") from None
    return parse_targets(text, path)


def expand_schemas(dsns: Iterable[str], pattern: str | None) -> list[Target]:
    """One target per database, or per matching schema of each database with `pattern`."""
    if pattern is None:
        return [Target(dsn) for dsn in dsns]
    import psycopg

    targets = []
    for dsn in dsns:
        try:
            with connect(dsn, application_name="bgmigrate list schemas") as conn:
                rows = conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname",
                    [glob_to_like(pattern)],
                ).fetchall()
        except psycopg.Error as error:
            raise ExecutionError(
                f"cannot list the schemas of {redact_dsn(dsn)}: {one_line(str(error))}"
            ) from None
        # LIKE is the filter; fnmatch double-checks, so that glob semantics are what users get.
        targets.extend(Target(dsn, row[0]) for row in rows if fnmatch.fnmatchcase(row[0], pattern))
    if not targets:
        raise UsageError(f"no schema matches --each-schema {pattern!r} in any target database")
    return targets
