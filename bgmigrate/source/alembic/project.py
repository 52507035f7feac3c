"""Where an Alembic project keeps its revisions, found from whatever path the user names.

Read from `alembic.ini` (or `[tool.alembic]` in `pyproject.toml`) the way Alembic reads it,
without importing Alembic: discovery stays cheap, and the revisions are never imported here.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bgmigrate.source.alembic.environment import Environment, read_environment
from bgmigrate.source.alembic.revision import RevisionFile, read_revision

__all__ = ["AlembicProject", "find_project", "project_of_revision"]

_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_OTHER_DIALECTS = {
    "sqlite": "SQLite",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "mssql": "SQL Server",
    "oracle": "Oracle",
}
_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}


@dataclass(frozen=True)
class AlembicProject:
    """The directories holding a project's revisions, and what to put on `sys.path` so its
    revisions can import the application (as Alembic's `prepend_sys_path` does)."""

    version_dirs: tuple[Path, ...]
    sys_path: tuple[Path, ...]
    recursive: bool = False
    environment: Environment = field(default_factory=Environment)
    """What env.py sets up: Alembic extensions, session settings."""

    @property
    def other_dialect(self) -> str | None:
        """The database other than PostgreSQL that the version directories are named for
        (`versions/sqlite/`), when they all are: that history never runs on PostgreSQL."""
        names = {_OTHER_DIALECTS.get(d.name.lower()) for d in self.version_dirs}
        return names.pop() if len(names) == 1 else None

    def revisions(self, read: Mapping[Path, RevisionFile] | None = None) -> list[RevisionFile]:
        """Every revision file in the version directories (unordered). `read`: revisions
        already read, by their `file`, whose text and tree are used again."""
        found = []
        for directory in self.version_dirs:
            pattern = "**/*.py" if self.recursive else "*.py"
            for path in sorted(directory.glob(pattern)):
                known = read.get(path.resolve()) if read else None
                revision = read_revision(path) if known is None else replace(known, path=path)
                if revision is not None:
                    found.append(revision)
        return found


def find_project(path: Path | str) -> AlembicProject | None:
    """The Alembic project that `path` names: an `alembic.ini`, a `pyproject.toml` with
    `[tool.alembic]`, a directory holding either, a script directory (`env.py` and
    `versions/`), a directory of revision files, or one revision file. None otherwise."""
    path = Path(path)
    if path.is_file():
        if path.suffix == ".ini":
            return _from_ini(path)
        if path.name == "pyproject.toml":
            return _from_pyproject(path)
        return project_of_revision(path) if read_revision(path) is not None else None
    if not path.is_dir():
        return None
    for config in (path / "alembic.ini", path / "pyproject.toml"):
        if config.is_file():
            project = _from_ini(config) if config.suffix == ".ini" else _from_pyproject(config)
            if project is not None:
                return project
    if (path / "env.py").is_file() and (path / "versions").is_dir():
        return _from_script_dir(path)
    if any(read_revision(file) is not None for file in sorted(path.glob("*.py"))):
        return _from_version_dir(path)
    return None


def project_of_revision(file: Path) -> AlembicProject:
    """The project a revision file belongs to: its script directory's configuration when one
    is found above it, else its own directory as a bare set of revisions."""
    directory = file.parent
    script_dir = directory.parent
    if (script_dir / "env.py").is_file():
        return _from_script_dir(script_dir, version_dir=directory)
    return _from_version_dir(directory)


def _from_script_dir(script_dir: Path, version_dir: Path | None = None) -> AlembicProject:
    """A script directory reached without its config: look for the `alembic.ini` that names
    it, so its `version_locations` and `prepend_sys_path` still apply."""
    for candidate in _upwards(script_dir, limit=3):
        for config in (candidate / "alembic.ini", candidate / "pyproject.toml"):
            if not config.is_file():
                continue
            # An alembic.ini may hold several environments, one section each (`[core]`,
            # `[tenant]`, run with `alembic --name tenant`): the one naming this directory.
            projects = (
                [_from_ini(config, section) for section in _sections(config)]
                if config.suffix == ".ini"
                else [_from_pyproject(config)]
            )
            for project in projects:
                if project is not None and any(
                    _same(d, version_dir or script_dir / "versions") for d in project.version_dirs
                ):
                    return project
    return _from_version_dir(version_dir or script_dir / "versions")


def _from_version_dir(directory: Path) -> AlembicProject:
    # env.py sits beside `versions/`, or above it when versions are split by database
    # (`versions/postgresql/`, as Prefect does).
    env_file = next(
        (
            d / "env.py"
            for d in (directory.parent, directory.parent.parent)
            if (d / "env.py").is_file()
        ),
        directory.parent / "env.py",
    )
    return AlembicProject(
        version_dirs=(directory,),
        sys_path=tuple(_guess_sys_path(directory)),
        environment=read_environment(env_file),
    )


def _parser(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(defaults={"here": str(path.parent.resolve())})
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser


def _sections(path: Path) -> list[str]:
    """The sections of an alembic.ini that name a script location, `[alembic]` first."""
    parser = _parser(path)
    if parser is None:
        return []
    found = [s for s in parser.sections() if parser.has_option(s, "script_location")]
    return sorted(found, key=lambda section: section != "alembic")


def _from_ini(path: Path, section: str | None = None) -> AlembicProject | None:
    parser = _parser(path)
    if parser is None:
        return None
    if section is None:
        section = next(iter(_sections(path)), None)
    if section is None:
        return None

    def option(name: str) -> str | None:
        try:
            value = parser.get(section, name, fallback=None)
        except configparser.Error:
            return None
        return value.strip() if value else None

    separator = option("path_separator") or option("version_path_separator")
    return _project(
        base=path.parent,
        script_location=option("script_location"),
        version_locations=_split(option("version_locations"), separator, r", *| +"),
        prepend_sys_path=_split(option("prepend_sys_path"), separator, r", *| +|:"),
        recursive=(option("recursive_version_locations") or "").lower() in {"true", "1", "yes"},
    )


def _from_pyproject(path: Path) -> AlembicProject | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("alembic")
    except (OSError, ValueError):
        return None
    if not isinstance(table, dict) or "script_location" not in table:
        return None
    here = str(path.parent.resolve())

    def expand(value: object) -> str:
        return str(value).replace("%(here)s", here)

    def listed(key: str) -> list[str]:
        value = table.get(key) or []
        return [expand(item) for item in (value if isinstance(value, list) else [value])]

    return _project(
        base=path.parent,
        script_location=expand(table["script_location"]),
        version_locations=listed("version_locations"),
        prepend_sys_path=listed("prepend_sys_path"),
        recursive=bool(table.get("recursive_version_locations", False)),
    )


def _project(
    *,
    base: Path,
    script_location: str | None,
    version_locations: list[str],
    prepend_sys_path: list[str],
    recursive: bool,
) -> AlembicProject | None:
    if not script_location:
        return None
    script_dir = _resolve(base, script_location)
    version_dirs = tuple(_resolve(base, location) for location in version_locations) or (
        script_dir / "versions",
    )
    version_dirs = tuple(d for d in version_dirs if d.is_dir())
    if not version_dirs:
        return None
    sys_path = [_resolve(base, entry) for entry in prepend_sys_path]
    sys_path.extend(_guess_sys_path(version_dirs[0]))
    return AlembicProject(
        version_dirs=version_dirs,
        sys_path=tuple(dict.fromkeys(sys_path)),
        recursive=recursive,
        environment=read_environment(script_dir / "env.py"),
    )


def _resolve(base: Path, location: str) -> Path:
    """A path from the config. Alembic reads relative paths from the working directory, where
    users run it; that is the config's directory in practice, and reading it from there makes
    the result independent of where bgmigrate runs. `package:dir` names a package's folder
    (looked for under the config's directory, without importing the package)."""
    package, colon, folder = location.partition(":")
    if colon and re.fullmatch(r"[A-Za-z_][\w.]*", package) and len(package) > 1:
        return base.joinpath(*package.split("."), folder)
    path = Path(location)
    if path.is_absolute():
        return path
    return base / path if (base / path).exists() or not path.exists() else path


def _split(value: str | None, separator: str | None, legacy: str) -> list[str]:
    if not value:
        return []
    if separator in _SEPARATORS:
        parts = value.split(_SEPARATORS[separator])
    else:
        parts = re.split(legacy, value)
    return [part.strip() for part in parts if part.strip()]


def _guess_sys_path(version_dir: Path) -> list[Path]:
    """Where the application imports from: the version directory (revisions may import
    siblings), the folder above the package holding the migrations (`shop/migrations/` in a
    package `shop` → the folder holding `shop/`, `src/` in a src layout), and the nearest
    project root."""
    paths = [version_dir]
    # The nearest package at or above the script directory (migrations may sit in a plain
    # folder inside it, e.g. `src/app/db/revisions/tenant/versions`), then its top.
    package = next(
        (d for d in _upwards(version_dir.parent, limit=3) if (d / "__init__.py").is_file()), None
    )
    if package is not None:
        while (package / "__init__.py").is_file():
            package = package.parent
        paths.append(package)
    for directory in _upwards(version_dir.parent, limit=6):
        if any((directory / marker).exists() for marker in _PROJECT_MARKERS):
            paths.append(directory)
            break
    return list(dict.fromkeys(paths))


def _upwards(start: Path, limit: int) -> list[Path]:
    directory = start.resolve()
    found = [directory]
    found.extend(list(directory.parents)[: limit - 1])
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
