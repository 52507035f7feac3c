"""The order Liquibase runs a directory's changelogs in, from its master changelog."""

from __future__ import annotations

import os
from pathlib import Path

from bgmigrate.source.layouts.base import Listing, MigrationFile, Skipped, Transaction, first_line
from bgmigrate.source.layouts.liquibase import FORMATTED, ROOT, STRUCTURED
from bgmigrate.source.layouts.liquibase.attributes import other_dbms, transaction_mode
from bgmigrate.source.layouts.liquibase.changelog import changeset_left_out, changesets
from bgmigrate.source.layouts.liquibase.tree import ChangelogError, Node, read_changelog_tree

__all__ = ["changelogs_in_order"]

_CHANGELOGS = (*STRUCTURED, ".sql")
_CLASSPATH = "classpath:"


def changelogs_in_order(directory: Path, layout: str) -> Listing:
    """Every changelog reached from the roots of `directory` (the changelogs no other one
    includes, in alphabetical order), as `layout` migrations in Liquibase's order."""
    reading = _Reading(directory, layout)
    candidates = sorted(
        directory / name
        for name in os.listdir(directory)
        if name.lower().endswith(_CHANGELOGS) and reading.is_changelog(directory / name)
    )
    included = {path for candidate in candidates for path, _ in reading.includes(candidate)}
    for candidate in candidates:
        if candidate not in included:
            reading.visit(candidate)
    return Listing(tuple(reading.found.values()), tuple(reading.skipped.values()))


class _Reading:
    """The changelogs reached so far from the roots of one directory, in Liquibase's order."""

    def __init__(self, directory: Path, layout: str) -> None:
        self.directory = directory
        self.layout = layout
        self.found: dict[Path, MigrationFile] = {}
        self.skipped: dict[Path, Skipped] = {}
        self.visited: set[Path] = set()
        self._texts: dict[Path, str] = {}
        self._trees: dict[Path, Node | None] = {}

    def text(self, path: Path) -> str:
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[path] = ""
        return self._texts[path]

    def tree(self, path: Path) -> Node | None:
        """The tree of a changelog that includes others or names `<sqlFile>`s, all the order
        needs of it; None for one that does neither (left unparsed: a directory of many
        changelogs is listed on every commit) or does not parse."""
        if path not in self._trees:
            text = self.text(path)
            needed = path.suffix.lower() in STRUCTURED and ("include" in text or "sqlFile" in text)
            try:
                tree = read_changelog_tree(text, path.suffix.lower()) if needed else None
            except ChangelogError:
                tree = None  # reading the changelog itself reports it
            self._trees[path] = tree
        return self._trees[path]

    def is_changelog(self, path: Path) -> bool:
        if path.suffix.lower() == ".sql":
            return FORMATTED.match(first_line(path)) is not None
        return ROOT in first_line(path, 2048)

    def visit(self, path: Path) -> None:
        if path in self.visited or not path.is_relative_to(self.directory) or not path.is_file():
            # A changelog outside the directory is read where it stands; one not found here
            # is on the classpath of another module (or missing, which Liquibase reports).
            return
        self.visited.add(path)
        if path.suffix.lower() not in STRUCTURED or "changeSet" in self.text(path):
            self.found[path] = MigrationFile(path, self.layout, "", Transaction.WRAPPED)
        tree = self.tree(path)
        if tree is None:
            return
        for changeset in changesets(tree):
            for target in _sql_files(path, changeset, self.layout):
                if target.path.is_relative_to(self.directory) and target.path.is_file():
                    self.found.setdefault(target.path, target)
        for included, node in self.includes(path):
            left_out = changeset_left_out(node)
            if left_out is None:
                self.visit(included)
            elif included.is_relative_to(self.directory) and included not in self.found:
                self.skipped.setdefault(included, Skipped(str(included), *left_out))

    def includes(self, path: Path) -> list[tuple[Path, Node]]:
        """The changelogs `path` includes, in the order Liquibase runs them, each with the
        `include` or `includeAll` that names it."""
        tree = self.tree(path)
        found: list[tuple[Path, Node]] = []
        for node in tree.children if tree is not None else []:
            if node.name == "include" and node.get("file"):
                found.append((_resolve(path, node.get("file"), node), node))
            elif node.name == "includeAll" and node.get("path"):
                found.extend((included, node) for included in _include_all(path, node))
        return found


def _include_all(changelog: Path, node: Node) -> list[Path]:
    """The files an `includeAll` names: below its folder, between `minDepth` and `maxDepth`
    (a file in the folder itself is at depth 1), ending with `endsWithFilter`, in order of
    path, or the reverse with `resourceComparator` `java.util.Comparator.reverseOrder`."""
    folder = _resolve(changelog, node.get("path"), node)
    ending = node.get("endsWithFilter").lower()
    deepest = _depth(node.get("maxDepth"), 10**6)
    shallowest = _depth(node.get("minDepth"), 1)
    found = []
    for root, subfolders, names in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts) + 1
        if depth >= deepest:
            subfolders.clear()
        if depth < shallowest:
            continue
        found.extend(
            Path(root, name)
            for name in names
            if name.lower().endswith(_CHANGELOGS) and name.lower().endswith(ending)
        )
    reverse = node.get("resourceComparator").endswith("reverseOrder")
    return sorted(found, key=lambda path: path.as_posix(), reverse=reverse)


def _depth(written: str, default: int) -> int:
    """A depth as written, or the default where none is (or a `${property}` stands)."""
    return int(written) if written.strip().isdigit() else default


def _sql_files(changelog: Path, changeset: Node, layout: str) -> list[MigrationFile]:
    """A changeset's `<sqlFile>` targets, each run in the changeset's transaction mode."""
    if changeset_left_out(changeset) is not None:
        return []
    return [
        MigrationFile(
            _resolve(changelog, node.get("path"), node),
            layout,
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
