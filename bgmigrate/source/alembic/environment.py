"""What a project's env.py sets up that its revisions rely on, read with `ast`, never run.

env.py may need the application and a database, so bgmigrate binds `op` itself; what it
would have done that still matters: the Alembic extensions it imports (they register operations
such as `op.sync_enum_values`), and the session settings it executes on the connection before
migrating (`SET lock_timeout = 4000` makes every revision's statements time out). And the
application modules it imports, which a few revisions use without importing them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from bgmigrate.source.unit import Location, Statement

__all__ = ["Environment", "read_environment"]

# `SET [SESSION] name = value` / `SET name TO value`; not LOCAL (it would end with the first
# transaction), not prose ("Set DATABASE_URL or …").
_SETTING = re.compile(
    r"\s*SET\s+(?:SESSION\s+)?(?!LOCAL\b)[A-Za-z_][\w.]*\s*(?:=|TO\b)", re.IGNORECASE
)


@dataclass(frozen=True)
class Environment:
    imports: tuple[str, ...] = ()
    """The modules env.py imports at its top level (the application's models, say): some
    revisions use them without importing them (`prefect.server.utilities.database.UUID`)."""
    settings: tuple[Statement, ...] = ()
    """Session-level `SET …` statements written in env.py, located there; they run outside
    any transaction, before each revision."""

    @property
    def plugins(self) -> tuple[str, ...]:
        """The Alembic extensions (`alembic_*` packages) among the imports."""
        return tuple(name for name in self.imports if name.split(".")[0].startswith("alembic_"))


def read_environment(env_file: Path) -> Environment:
    try:
        tree = ast.parse(env_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return Environment()
    imports: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            imports.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.append(node.module)
    # A piece of an f-string (`f'set search_path to "{schema}"'`) is not a statement: what
    # it becomes depends on values known only when env.py runs.
    fragments = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    settings = [
        Statement(
            node.value.strip().rstrip(";").strip(),
            str(env_file),
            Location(
                node.lineno,
                node.col_offset + 1,
                node.end_lineno or node.lineno,
                max(node.end_col_offset or 0, 1),
            ),
            index=0,
            context=True,
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and id(node) not in fragments
        and isinstance(node.value, str)
        and _SETTING.match(node.value)
    ]
    settings.sort(key=lambda statement: (statement.location.line, statement.location.column))
    return Environment(imports=tuple(dict.fromkeys(imports)), settings=tuple(settings))
