"""Liquibase: changelogs in XML, YAML or JSON, and formatted SQL (`--liquibase formatted sql`).

The master changelog decides the order: its `include`s in document order and its
`includeAll`s in alphabetical order of path, each included changelog's own changesets before
the changelogs it includes in turn; `<sqlFile>` targets follow the changelog that names them.
A path is resolved beside the including changelog (`relativeToChangelogFile`) or, as Liquibase
resolves it against the classpath, below the nearest enclosing folder that holds it
(`src/main/resources`). In a directory without a master, every changelog runs in alphabetical
order, as `includeAll` would run them. Each changeset runs in its own transaction unless it says
`runInTransaction: false`; see `formatted` and `changelog` for what of a file runs forward.
"""

from __future__ import annotations

import os
from pathlib import Path

from bgmigrate.source.layouts.base import (
    Entries,
    Forward,
    Layout,
    Listing,
    MigrationFile,
    Transaction,
    first_line,
    whole_file,
)
from bgmigrate.source.layouts.liquibase.attributes import other_dbms, transaction_mode
from bgmigrate.source.layouts.liquibase.changelog import (
    changelog_forward,
    changeset_engine,
    changesets,
)
from bgmigrate.source.layouts.liquibase.formatted import FORMATTED, formatted_forward
from bgmigrate.source.layouts.liquibase.tree import Node, read_changelog_tree

__all__ = ["LAYOUT"]

_STRUCTURED = (".xml", ".yaml", ".yml", ".json")
_CHANGELOGS = (*_STRUCTURED, ".sql")
_ROOT = "databaseChangeLog"
_CLASSPATH = "classpath:"


def detect(entries: Entries) -> bool:
    """A changelog (`db.changelog-master.yaml`, `changelog.xml`, `master.xml`, or any XML,
    YAML or JSON file) with a `databaseChangeLog` root near its top, or formatted SQL. Names
    that say changelog are looked at first."""
    structured = [name for name in entries.files if name.lower().endswith(_STRUCTURED)]
    structured.sort(key=lambda name: "changelog" not in name.lower() and "master" not in name)
    if any(_ROOT in first_line(entries.directory / name, 2048) for name in structured):
        return True
    sql = sorted(name for name in entries.files if name.lower().endswith(".sql"))
    return bool(sql) and FORMATTED.match(first_line(entries.directory / sql[0])) is not None


def migrations(directory: Path) -> Listing:
    reading = _Reading(directory)
    candidates = sorted(
        directory / name
        for name in os.listdir(directory)
        if name.lower().endswith(_CHANGELOGS) and reading.is_changelog(directory / name)
    )
    included = {path for candidate in candidates for path in reading.includes(candidate)}
    for candidate in candidates:
        if candidate not in included:
            reading.visit(candidate)
    return Listing(tuple(reading.found.values()))


class _Reading:
    """The changelogs reached so far from the roots of one directory, in Liquibase's order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.found: dict[Path, MigrationFile] = {}
        self._trees: dict[Path, Node | None] = {}

    def tree(self, path: Path) -> Node | None:
        if path not in self._trees:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._trees[path] = read_changelog_tree(text, path.suffix.lower())
        return self._trees[path]

    def is_changelog(self, path: Path) -> bool:
        if path.suffix.lower() == ".sql":
            return FORMATTED.match(first_line(path)) is not None
        return _ROOT in first_line(path, 2048) and self.tree(path) is not None

    def visit(self, path: Path) -> None:
        if path in self.found or not path.is_relative_to(self.directory) or not path.is_file():
            # A changelog outside the directory is read where it stands; one not found here
            # is on the classpath of another module (or missing, which Liquibase reports).
            return
        tree = self.tree(path) if path.suffix.lower() in _STRUCTURED else None
        if tree is None or changesets(tree):
            self.found[path] = MigrationFile(path, LAYOUT.name, "", Transaction.WRAPPED)
        if tree is None:
            return
        for changeset in changesets(tree):
            for target in _sql_files(path, changeset):
                if target.path.is_relative_to(self.directory) and target.path.is_file():
                    self.found.setdefault(target.path, target)
        for included in self.includes(path):
            self.visit(included)

    def includes(self, path: Path) -> list[Path]:
        """The changelogs `path` includes, in the order Liquibase runs them."""
        tree = self.tree(path) if path.suffix.lower() in _STRUCTURED else None
        found: list[Path] = []
        for node in tree.children if tree is not None else []:
            if node.name == "include" and node.get("file"):
                found.append(_resolve(path, node.get("file"), node))
            elif node.name == "includeAll" and node.get("path"):
                folder = _resolve(path, node.get("path"), node)
                found.extend(
                    Path(root, name)
                    for root, _, names in sorted(os.walk(folder))
                    for name in sorted(names)
                    if name.lower().endswith(_CHANGELOGS)
                )
        return found


def _sql_files(changelog: Path, changeset: Node) -> list[MigrationFile]:
    """A changeset's `<sqlFile>` targets, each run in the changeset's transaction mode."""
    if changeset_engine(changeset) is not None:
        return []
    return [
        MigrationFile(
            _resolve(changelog, node.get("path"), node),
            LAYOUT.name,
            f"{changeset.get('author')}:{changeset.get('id')}",
            transaction_mode(
                changeset.get("runInTransaction") or None, node.get("splitStatements") or None
            ),
        )
        for node in changeset.children
        if node.name == "sqlFile" and node.get("path") and other_dbms(node.get("dbms")) is None
    ]


def _resolve(changelog: Path, written: str, node: Node) -> Path:
    """Where an include or a `<sqlFile>` points: beside the changelog when relative to it,
    else below the nearest folder above the changelog that holds it (the classpath root)."""
    relative = written.removeprefix(_CLASSPATH).lstrip("/")
    if node.get("relativeToChangelogFile").lower() == "true":
        return Path(os.path.normpath(changelog.parent / relative))
    for folder in changelog.parents:
        candidate = folder / relative
        if candidate.exists():
            return Path(os.path.normpath(candidate))
    return Path(os.path.normpath(changelog.parent / relative))


def forward(text: str, file: MigrationFile) -> Forward:
    suffix = file.path.suffix.lower()
    if suffix in _STRUCTURED:
        return changelog_forward(text, suffix)
    if FORMATTED.match(text):
        return formatted_forward(text)
    return whole_file(text, file)  # a <sqlFile> target or an included plain SQL file


LAYOUT = Layout(
    name="liquibase",
    summary="the master changelog's include/includeAll order; each changeset in its own "
    "transaction; XML/YAML changes rendered as SQL; rollbacks and other dbms skipped",
    detect=detect,
    migrations=migrations,
    forward=forward,
)
