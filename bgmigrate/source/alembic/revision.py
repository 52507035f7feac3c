"""An Alembic revision file as read without importing it: its place in the revision graph."""

from __future__ import annotations

import ast
import tokenize
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RevisionFile", "read_revision", "read_source"]


@dataclass(frozen=True)
class RevisionFile:
    """A revision's place in the graph and its source, read with `ast` (never imported).

    `path` is the path as the user named it (reports show it); `file` is the absolute path
    the interpreter sees when the revision runs.
    """

    path: Path
    file: Path
    revision: str
    down_revisions: tuple[str, ...]
    depends_on: tuple[str, ...]
    text: str
    tree: ast.Module

    @property
    def parents(self) -> tuple[str, ...]:
        """Every revision that must run before this one."""
        return self.down_revisions + self.depends_on


def read_source(path: Path) -> str:
    """A Python file's text, decoded as the interpreter would (PEP 263 coding cookie)."""
    with tokenize.open(path) as handle:
        return handle.read()


def read_revision(path: Path) -> RevisionFile | None:
    """The revision in `path`, or None when the file is not an Alembic revision (a module-level
    string `revision` and a `def upgrade`) or is not valid Python."""
    try:
        text = read_source(path)
        tree = ast.parse(text, filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    values = _module_constants(tree)
    revision = values.get("revision")
    has_upgrade = any(
        isinstance(node, ast.FunctionDef) and node.name == "upgrade" for node in tree.body
    )
    if not isinstance(revision, str) or not has_upgrade:
        return None
    return RevisionFile(
        path=path,
        file=path.resolve(),
        revision=revision,
        down_revisions=_ids(values.get("down_revision")),
        depends_on=_ids(values.get("depends_on")),
        text=text,
        tree=tree,
    )


def _module_constants(tree: ast.Module) -> dict[str, object]:
    """Module-level `name = <literal>` and `name: T = <literal>` assignments."""
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        try:
            literal = ast.literal_eval(value)
        except ValueError:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                values[target.id] = literal
    return values


def _ids(value: object) -> tuple[str, ...]:
    """Alembic accepts None, one id, or a sequence of ids for `down_revision`/`depends_on`."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(item for item in value if isinstance(item, str))
    return ()
