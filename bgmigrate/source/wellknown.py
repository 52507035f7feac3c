"""With no path and no config: where migration tools put migrations, looked for from the
working directory up to the repository root.

An `alembic.ini` whose `script_location` holds revisions is an Alembic project; otherwise
the conventional migration directories that hold migrations are checked. The first folder
(the working directory, then each parent up to git's top level) with any of them wins, so a
service's own migrations win over a monorepo's. Each directory found is then read by the
layout it holds (goose, Flyway, Prisma…), as a path given on the command line would be.
"""

from __future__ import annotations

from pathlib import Path

from bgmigrate.source.discover import discover
from bgmigrate.source.errors import SourceError
from bgmigrate.source.git import repository_root
from bgmigrate.values import Value, frozen_value

__all__ = ["ALEMBIC_INI", "WELL_KNOWN_DIRECTORIES", "NothingFound", "WellKnown", "find_well_known"]

ALEMBIC_INI = "alembic.ini"
WELL_KNOWN_DIRECTORIES = (
    "migrations",
    "db/migrations",
    "db/migrate",
    "database/migrations",
    "sql/migrations",
    "src/main/resources/db/migration",  # Flyway's default location
    "src/main/resources/db/changelog",  # Liquibase's, in a Spring Boot project
    "prisma/migrations",
    "supabase/migrations",
)
# A sqitch project is the folder of its plan: the plan orders `deploy/`, next to it.
SQITCH_PLAN = "sqitch.plan"


@frozen_value
class WellKnown(Value):
    """What zero-config discovery chose: migration directories and Alembic configs."""

    directories: tuple[Path, ...] = ()
    alembic_inis: tuple[Path, ...] = ()


def find_well_known(cwd: Path) -> WellKnown:
    """The migrations in the first folder, from `cwd` up to the repository root, that has
    any; raises `SourceError` naming every place looked in when none has."""
    looked: list[str] = []
    for folder in _folders(cwd):
        found = _in_folder(folder)
        if found.directories or found.alembic_inis:
            return found
        looked.append(str(folder))
    names = ", ".join([ALEMBIC_INI, *(f"{d}/" for d in WELL_KNOWN_DIRECTORIES), SQITCH_PLAN])
    raise NothingFound(f"no migrations found in {' or '.join(looked)} (looked for {names})")


class NothingFound(SourceError):
    """No migrations where tools put them; the message says where it looked."""

    def __str__(self) -> str:
        return (
            f"nothing to check: {self.args[0]}; give the path (`bgmigrate check db/schema/`) "
            "or set `paths` under [tool.bgmigrate] in pyproject.toml"
        )

    @property
    def where(self) -> str:
        return str(self.args[0])


def _folders(cwd: Path) -> list[Path]:
    root = repository_root(cwd)
    folders = [cwd]
    if root is not None and cwd.resolve() != root:
        for parent in cwd.resolve().parents:
            folders.append(parent)
            if parent == root:
                break
    return folders


def _in_folder(folder: Path) -> WellKnown:
    from bgmigrate.source.alembic.project import find_project

    ini = folder / ALEMBIC_INI
    if ini.is_file() and find_project(ini) is not None:
        # An Alembic project's migrations are its revisions, wherever its directories are.
        return WellKnown(alembic_inis=(ini,))
    if (folder / SQITCH_PLAN).is_file() and _holds_migrations(folder):
        return WellKnown(directories=(folder,))
    directories = tuple(
        folder / name
        for name in WELL_KNOWN_DIRECTORIES
        if (folder / name).is_dir() and _holds_migrations(folder / name)
    )
    return WellKnown(directories=directories)


def _holds_migrations(directory: Path) -> bool:
    try:
        found = discover([directory])
    except SourceError:
        return False
    return bool(found.sql_files or found.alembic_revisions)
