"""Alembic revisions as migration units: SQL rendered from `op.…` calls, located in the `.py`.

- `alembic_units(paths)`: revisions or projects → units in revision-graph order;
- `find_project(path)` / `read_revision(path)`: what a path is, without importing anything;
- `replay_alembic(project, dsn)`: run a project's revisions against a database (the planner's
  `--schema-from`).

Alembic and SQLAlchemy are imported only when a revision is rendered.
"""

from __future__ import annotations

from bgmigrate.source.alembic.online import ReplayError, replay_alembic
from bgmigrate.source.alembic.project import AlembicProject, find_project
from bgmigrate.source.alembic.revision import RevisionFile, read_revision
from bgmigrate.source.alembic.units import (
    DATA_BLIND_REVISION,
    UNANALYSABLE_REVISION,
    alembic_units,
)

__all__ = [
    "DATA_BLIND_REVISION",
    "UNANALYSABLE_REVISION",
    "AlembicProject",
    "ReplayError",
    "RevisionFile",
    "alembic_units",
    "find_project",
    "read_revision",
    "replay_alembic",
]
