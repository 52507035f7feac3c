"""One `bgmigrate check` run: options and config → units → engine → result."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from bgmigrate.check.engine import CheckSettings, SelectionError, check_units, select_rules
from bgmigrate.check.finding import Severity
from bgmigrate.check.result import CheckResult
from bgmigrate.config import Config, ConfigError, load_config
from bgmigrate.source.errors import SourceError
from bgmigrate.source.unit import Unit
from bgmigrate.values import Value, frozen_value

__all__ = ["DEFAULT_PG_VERSION", "CheckOptions", "CheckProblem", "read_units", "run_check"]

DEFAULT_PG_VERSION = 16
STDIN = "-"


class CheckProblem(Exception):
    """The run could not check anything: a bad path, config or option (exit code 2)."""


@frozen_value
class CheckOptions(Value):
    """One `bgmigrate check` run's inputs, as the command line gives them."""

    paths: tuple[str, ...] = ()
    stdin_text: str | None = None
    stdin_filename: str = "<stdin>"
    pg_version: int | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    since: str | None = None
    config_file: Path | None = None
    cwd: Path | None = None


def run_check(options: CheckOptions) -> CheckResult:
    """Check what the options and the config name; raises `CheckProblem` when it cannot."""
    from bgmigrate.rules import CATALOG

    cwd = options.cwd or Path.cwd()
    try:
        config = load_config(options.config_file, start=cwd)
        rules = select_rules(
            CATALOG,
            select=options.select or config.select,
            ignore=(*config.ignore, *options.ignore),
            severity={rule: Severity(level) for rule, level in config.severity.items()},
        )
        reading = _Reading(options, config, cwd)
        report, change = _reported(options.since, cwd) if options.since else (_everything, _none)
        pg_version = options.pg_version or config.pg_version or DEFAULT_PG_VERSION
        settings = CheckSettings(pg_version=pg_version, rules=rules, report=report, change=change)
        result = check_units(reading.units(), settings)
        result.layouts = [(_display(path, cwd), name) for path, name in reading.found.layouts]
        result.skipped = reading.skipped
        return result
    except (ConfigError, SourceError, SelectionError) as error:
        raise CheckProblem(str(error)) from error


def read_units(options: CheckOptions) -> Iterator[Unit]:
    """The units `check` would check for these options, in migration order, unchecked: for
    commands that run the statements instead (`bgmigrate trace`). Raises `CheckProblem`."""
    cwd = options.cwd or Path.cwd()
    try:
        config = load_config(options.config_file, start=cwd)
        return _Reading(options, config, cwd).units()
    except (ConfigError, SourceError) as error:
        raise CheckProblem(str(error)) from error


def _everything(unit: Unit) -> bool:
    return True


def _none(unit: Unit) -> bool:
    return False


class _Reading:
    """The units of one run, in migration order, and what was left out of them. Paths are
    resolved first, so that a bad one fails before anything is checked; files are read one at
    a time as the engine asks for them."""

    def __init__(self, options: CheckOptions, config: Config, cwd: Path) -> None:
        from bgmigrate.source import discover

        self.options, self.config, self.cwd = options, config, cwd
        self.alembic_projects: list[Path] = []
        if options.paths:
            paths = [p if p == STDIN else str(_absolute(p, cwd)) for p in options.paths]
        elif config.paths or config.alembic_ini:
            paths = [str(config.root / p) for p in config.paths]
            if config.alembic_ini:
                self.alembic_projects.append(config.root / config.alembic_ini)
        else:
            raise SourceError(
                "nothing to check: give migration paths (`bgmigrate check migrations/`) or set "
                "`paths` under [tool.bgmigrate] in pyproject.toml"
            )
        self.stdin = STDIN in paths
        layouts = {config.root / directory: name for directory, name in config.layouts.items()}
        self.found = discover([p for p in paths if p != STDIN], layouts)
        self.skipped = [
            replace(skipped, path=_display(Path(skipped.path), cwd))
            for skipped in self.found.skipped
        ]

    def units(self) -> Iterator[Unit]:
        from bgmigrate.source.layouts.read import read_migration, unreadable
        from bgmigrate.source.reading import read_source_text, unreadable_source
        from bgmigrate.source.sql import read_sql_unit

        wrapped = self.config.assume_in_transaction
        if self.stdin:
            text = self.options.stdin_text or ""
            yield read_sql_unit(self.options.stdin_filename, text, assume_in_transaction=wrapped)
        for migration in self.found.migrations:
            path = _display(migration.path, self.cwd)
            source = read_source_text(migration.path)
            if source.problem is not None and not source.text:
                yield unreadable(source, path)
                continue
            read = read_migration(migration, source, path, assume_in_transaction=wrapped)
            self.skipped.extend(read.skipped)
            if read.unit is not None:
                yield read.unit
        for directory, why in self.found.unreadable:
            path = _display(directory, self.cwd)
            yield unreadable(unreadable_source(f"directory {path}", why), path)
        revisions = self.found.alembic_revisions
        if revisions or self.alembic_projects:
            from bgmigrate.source.alembic import alembic_units

            for unit in alembic_units([*self.alembic_projects, *revisions]):
                unit.path = _display(Path(unit.path), self.cwd)
                yield unit


def _absolute(path: str, cwd: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else cwd / candidate


def _display(path: Path, cwd: Path) -> str:
    """Paths as the user's tools expect them: relative to the working directory when inside.

    Inside as written is enough (and keeps the names of symlinks the user gave); only a path
    that is not is resolved, in case a symlink puts it inside after all.
    """
    written, base = os.path.normpath(path), os.path.normpath(cwd)
    if written.startswith(base.rstrip(os.sep) + os.sep):
        return Path(written[len(base.rstrip(os.sep)) + 1 :]).as_posix()
    try:
        return path.resolve().relative_to(_resolved(cwd)).as_posix()
    except ValueError:
        return path.as_posix()


@functools.lru_cache(maxsize=8)
def _resolved(path: Path) -> Path:
    return path.resolve()


def _reported(since: str, cwd: Path) -> tuple[Callable[[Unit], bool], Callable[[Unit], bool]]:
    """The units to report (added or changed since the ref), and those of the change (added)."""
    from bgmigrate.source.git import changed_since

    changes = changed_since(since, cwd)
    return (
        lambda unit: (cwd / unit.path).resolve() in changes.changed,
        lambda unit: (cwd / unit.path).resolve() in changes.added,
    )
