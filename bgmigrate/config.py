"""Project configuration: `[tool.bgmigrate]` in pyproject.toml, or a `bgmigrate.toml`.

Found from the current directory upwards; an explicit `--config FILE` wins. Unknown keys,
rule names and values are errors that name them, because a typo in a CI gate's config must not
silently turn a check off.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bgmigrate.values import Value, field, frozen_value

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Config", "ConfigError", "find_config", "load_config"]

SEVERITIES = ("error", "warning", "info")
KEYS = {
    "paths",
    "pg_version",
    "select",
    "ignore",
    "severity",
    "assume_in_transaction",
    "alembic_ini",
    "layouts",
    "lock_timeout_set_by_runner",
}


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@frozen_value
class Config(Value):
    """`[tool.bgmigrate]` or `bgmigrate.toml`, validated; every key optional."""

    paths: tuple[str, ...] = ()
    pg_version: int | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    assume_in_transaction: bool = False
    alembic_ini: str | None = None
    layouts: dict[str, str] = field(default_factory=dict)
    """Directory (relative to the config file) → the layout that reads it, where detection
    would guess otherwise."""

    lock_timeout_set_by_runner: bool | tuple[str, ...] = False
    """The migration runner sets lock_timeout for every migration (true), or for those under
    these paths (relative to the config's folder): a `SET lock_timeout` is then in force from
    each file's first statement."""
    source: Path | None = None
    """The file the settings came from; relative paths in it are relative to its folder."""

    @property
    def root(self) -> Path:
        return self.source.parent if self.source else Path.cwd()


def find_config(start: Path) -> Path | None:
    """The nearest `bgmigrate.toml`, or `pyproject.toml` with a [tool.bgmigrate] table."""
    for folder in (start, *start.parents):
        candidate = folder / "bgmigrate.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        # Most projects' pyproject.toml has no bgmigrate table: skip parsing it then.
        if _mentions_bgmigrate(pyproject) and "bgmigrate" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load_config(explicit: Path | None = None, *, start: Path | None = None) -> Config:
    """Load the explicit file, else the nearest one, else the defaults."""
    path = explicit or find_config(start or Path.cwd())
    if path is None:
        return Config()
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    data = _read(path)
    table = data.get("tool", {}).get("bgmigrate", {}) if path.name == "pyproject.toml" else data
    return _parse(table, path)


def _mentions_bgmigrate(path: Path) -> bool:
    try:
        return path.is_file() and b"bgmigrate" in path.read_bytes()
    except OSError:
        return True  # let _read report why it cannot be read


def _read(path: Path) -> dict[str, Any]:
    # Imported here: a run without a config file (a pre-commit hook) never pays for it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from error


def _parse(table: dict[str, Any], path: Path) -> Config:
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{path}: 'severity' must be a table of rule = severity")
    for rule, level in severity.items():
        if level not in SEVERITIES:
            raise ConfigError(
                f"{path}: severity of {rule!r} is {level!r}; use one of {', '.join(SEVERITIES)}"
            )
    pg_version = table.get("pg_version")
    if pg_version is not None and (not isinstance(pg_version, int) or pg_version < 9):
        raise ConfigError(f"{path}: 'pg_version' must be a PostgreSQL major version like 16")
    return Config(
        paths=_strings(table, "paths", path),
        pg_version=pg_version,
        select=_strings(table, "select", path),
        ignore=_strings(table, "ignore", path),
        severity=dict(severity),
        assume_in_transaction=_bool(table, "assume_in_transaction", path),
        alembic_ini=table.get("alembic_ini"),
        layouts=_layouts(table, path),
        lock_timeout_set_by_runner=_bool_or_paths(table, "lock_timeout_set_by_runner", path),
        source=path,
    )


def _strings(table: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key!r} must be a list of strings")
    return tuple(value)


def _bool(table: dict[str, Any], key: str, path: Path) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {key!r} must be true or false")
    return value


def _layouts(table: dict[str, Any], path: Path) -> dict[str, str]:
    from bgmigrate.source.layouts import LAYOUTS, PLAIN

    value = table.get("layouts", {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{path}: 'layouts' must be a table of directory = layout name")
    for directory, name in value.items():
        if name not in LAYOUTS and name != PLAIN:
            raise ConfigError(
                f"{path}: layout {name!r} of {directory!r} is unknown (known: "
                f"{', '.join(sorted([*LAYOUTS, PLAIN]))})"
            )
    return dict(value)


def _bool_or_paths(table: dict[str, Any], key: str, path: Path) -> bool | tuple[str, ...]:
    value = table.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{path}: {key!r} must be true, false, or a list of paths")
