"""One `bgmigrate check` run: options and config → units → engine → result."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bgmigrate.check.collector import fewer_collections
from bgmigrate.check.engine import (
    CheckSettings,
    SelectionError,
    check_units,
    parse_unit,
    select_rules,
)
from bgmigrate.check.finding import Severity
from bgmigrate.check.result import CheckResult
from bgmigrate.config import Config, ConfigError, load_config
from bgmigrate.parse.operations import Operation
from bgmigrate.source.discover import Discovered
from bgmigrate.source.errors import SourceError
from bgmigrate.source.layouts.read import ReadMigration
from bgmigrate.source.unit import Unit
from bgmigrate.values import Value, frozen_value, replace

if TYPE_CHECKING:
    from bgmigrate.check.cache import CheckCache, CheckKey

__all__ = [
    "DEFAULT_PG_VERSION",
    "CheckOptions",
    "CheckProblem",
    "CheckReport",
    "check_report",
    "read_units",
    "run_check",
]

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
    jobs: int | None = None
    """Worker processes that read and parse files: None decides by the number of files and
    processors, 1 reads and parses in this process."""
    cache: bool = False
    """Reuse the report of an identical earlier run (`bgmigrate.check.cache`)."""


def run_check(options: CheckOptions) -> CheckResult:
    """Check what the options and the config name; raises `CheckProblem` when it cannot."""
    result = _run(options, None)
    assert isinstance(result, CheckResult)
    return result


def check_report(options: CheckOptions, report_format: str, *, color: bool) -> CheckReport:
    """`run_check`, rendered in `report_format` (`bgmigrate.check.report.FORMATS`): with the
    cache, an unchanged run's report is the one stored, neither decoded nor rendered again."""
    report = _run(options, (report_format, color))
    assert isinstance(report, CheckReport)
    return report


@frozen_value
class CheckReport(Value):
    """A rendered run: the report, the notes for stderr, and the highest severity of its
    unsuppressed findings (what `--fail-on` is compared with)."""

    text: str
    notes: tuple[str, ...]
    worst: Severity | None

    def fails(self, fail_on: Severity | None) -> bool:
        """True when an unsuppressed finding is at or above `fail_on` (None: never fail)."""
        return fail_on is not None and self.worst is not None and self.worst.rank >= fail_on.rank


def _run(options: CheckOptions, rendering: tuple[str, bool] | None) -> CheckResult | CheckReport:
    """The run's result, or its report when `rendering` names a format and colour."""
    from bgmigrate.rules import CATALOG, LISTED

    cwd = options.cwd or Path.cwd()
    try:
        config = load_config(options.config_file, start=cwd)
        rules = select_rules(
            LISTED,  # each rule's module imported when the check first needs it
            select=options.select or config.select,
            ignore=(*config.ignore, *options.ignore),
            severity={rule: Severity(level) for rule, level in config.severity.items()},
        )
        notes: list[str] = []
        reading = _Reading(options, config, cwd, notes)
        report = _Reported(options.since, cwd) if options.since else None
        pg_version = options.pg_version or config.pg_version or DEFAULT_PG_VERSION
        settings = CheckSettings(
            pg_version=pg_version,
            rules=rules,
            report=report or _everything,
            change=report.added if report else _nothing,
            lock_timeout_set_by_runner=_runner_sets_lock_timeout(config, cwd),
        )
        key = _cache_key(options, config, cwd, reading, settings, report)
        cache = _open_cache(config) if key else None
        report_key = key.report(*rendering) if key and rendering else None
        stored = cache.load_report(report_key) if cache and report_key else None
        if stored is not None:
            if report is not None:
                report.any = stored.reported_any
            notes = _with_since(notes, report, options, stored.units)
            return CheckReport(stored.text, tuple(notes), stored.worst)
        cached = cache.load(key) if cache and key else None
        unchanged = True
        if cached is None:
            with fewer_collections():
                result = check_units(reading.units(), settings, reading.operations)
            result.skipped = reading.skipped
            # A file edited while it was checked: its result belongs to neither key.
            again = _cache_key(options, config, cwd, reading, settings, report)
            unchanged = bool(key and again and again.digest == key.digest)
            if cache and key and unchanged:
                cache.store(key, result, reported_any=bool(report and report.any))
        else:
            result = cached.result
            if report is not None:
                report.any = cached.reported_any
        result.layouts = [(_display(path, cwd), name) for path, name in reading.found.layouts]
    except (ConfigError, SourceError, SelectionError) as error:
        raise CheckProblem(str(error)) from error
    result.notes.extend(_with_since(notes, report, options, len(result.units)))
    if rendering is None:
        return result
    from bgmigrate.check.report import FORMATS

    report_format, color = rendering
    text = FORMATS[report_format](result, CATALOG, color=color)
    worst = max(
        (f.severity for f in result.findings if not f.suppressed),
        key=lambda severity: severity.rank,
        default=None,
    )
    if cache and report_key and unchanged:
        from bgmigrate.check.cache import CachedReport

        reported_any = bool(report and report.any)
        cache.store_report(report_key, CachedReport(text, worst, reported_any, len(result.units)))
    return CheckReport(text, tuple(result.notes), worst)


def _with_since(
    notes: list[str], report: _Reported | None, options: CheckOptions, read: int
) -> list[str]:
    """The run's notes, and that `--since` found nothing to report when it did not."""
    if report is None or report.any:
        return notes
    return [
        *notes,
        f"no migration changed since {options.since}: nothing to report ({read} read)",
    ]


def read_units(options: CheckOptions) -> Iterator[Unit]:
    """The units `check` would check for these options, in migration order, unchecked: for
    commands that run the statements instead (`bgmigrate trace`). Raises `CheckProblem`."""
    cwd = options.cwd or Path.cwd()
    try:
        config = load_config(options.config_file, start=cwd)
        # Nothing here wants the statements parsed: read in this process.
        return _Reading(replace(options, jobs=1), config, cwd, []).units()
    except (ConfigError, SourceError) as error:
        raise CheckProblem(str(error)) from error


def _cache_key(
    options: CheckOptions,
    config: Config,
    cwd: Path,
    reading: _Reading,
    settings: CheckSettings,
    report: _Reported | None,
) -> CheckKey | None:
    """This run's key in the cache (see `bgmigrate.check.cache`); None when not cached."""
    if not options.cache or reading.alembic_projects or reading.found.alembic_revisions:
        return None
    from bgmigrate.check.cache import CheckKey

    key = CheckKey()
    key.add(str(cwd), repr(config), settings.pg_version, options.stdin_text, reading.stdin)
    key.add(options.stdin_filename, repr(reading.found))
    key.add_rules(settings.rules)
    if report is not None:
        key.add(sorted(map(str, report.changes.changed)), sorted(map(str, report.changes.added)))
    for migration in reading.found.migrations:
        key.add_file(migration.path)
    return key


def _open_cache(config: Config) -> CheckCache:
    from bgmigrate.check.cache import CheckCache, cache_directory

    return CheckCache(cache_directory(config.root))


def _everything(unit: Unit) -> bool:
    return True


def _nothing(unit: Unit) -> bool:
    return False


def _runner_sets_lock_timeout(config: Config, cwd: Path) -> Callable[[Unit], bool]:
    """The config's `lock_timeout_set_by_runner`: every unit, none, or those under its paths."""
    declared = config.lock_timeout_set_by_runner
    if isinstance(declared, bool):
        return _everything if declared else _nothing
    folders = [(config.root / folder).resolve() for folder in declared]
    return lambda unit: any(
        (cwd / unit.path).resolve().is_relative_to(folder) for folder in folders
    )


class _Reading:
    """The units of one run, in migration order, and what was left out of them. Paths are
    resolved first, so that a bad one fails before anything is checked; files are read one at
    a time as the engine asks for them."""

    def __init__(self, options: CheckOptions, config: Config, cwd: Path, notes: list[str]) -> None:
        from bgmigrate.source import discover

        self.options, self.config, self.cwd = options, config, cwd
        self.parsed: dict[int, list[list[Operation]]] = {}
        """Operations parsed in worker processes, by the id of their unit (until checked)."""
        self.alembic_projects: list[Path] = []
        if options.paths:
            paths = [p if p == STDIN else str(_absolute(p, cwd)) for p in options.paths]
        elif config.paths or config.alembic_ini:
            paths = [str(config.root / p) for p in config.paths]
            if config.alembic_ini:
                self.alembic_projects.append(config.root / config.alembic_ini)
        else:
            from bgmigrate.source.wellknown import find_well_known

            found_here = find_well_known(cwd)
            paths = [str(directory) for directory in found_here.directories]
            self.alembic_projects.extend(found_here.alembic_inis)
            chosen = [*found_here.alembic_inis, *map(Path, paths)]
            notes.append(
                f"checking {', '.join(_display(p, cwd) for p in chosen)} (found with no path "
                "given; name paths, or set `paths` under [tool.bgmigrate], to choose)"
            )
        self.alembic_projects.extend(_alembic_configs(paths))
        paths = [p for p in paths if not _is_alembic_config(p)]
        self.stdin = STDIN in paths
        layouts = {config.root / directory: name for directory, name in config.layouts.items()}
        self.found = discover([p for p in paths if p != STDIN], layouts)
        _fail_on_empty_directories(paths, self.found)
        self.skipped = [
            replace(skipped, path=_display(Path(skipped.path), cwd))
            for skipped in self.found.skipped
        ]

    def units(self) -> Iterator[Unit]:
        from bgmigrate.source.layouts.read import unreadable
        from bgmigrate.source.reading import unreadable_source
        from bgmigrate.source.sql import read_sql_unit

        wrapped = self.config.assume_in_transaction
        if self.stdin:
            text = self.options.stdin_text or ""
            yield read_sql_unit(self.options.stdin_filename, text, assume_in_transaction=wrapped)
        for read in self._migrations(wrapped):
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

    def _migrations(self, wrapped: bool) -> Iterator[ReadMigration]:
        """The migration files read, in order: in worker processes when there are many."""
        from bgmigrate.check import workers

        listed = [(m, _display(m.path, self.cwd)) for m in self.found.migrations]
        jobs = self.options.jobs
        if jobs is None:
            many = len(listed) >= workers.PARALLEL_FROM
            jobs = workers.available_cpus() if many else 1
        if jobs <= 1:
            for migration, path in listed:
                yield workers.read_file(migration, path, assume_in_transaction=wrapped)
            return
        for read, operations in workers.read_in_workers(
            listed, assume_in_transaction=wrapped, jobs=jobs
        ):
            if read.unit is not None:
                self.parsed[id(read.unit)] = operations
            yield read

    def operations(self, unit: Unit) -> Sequence[list[Operation]]:
        """A unit's operations: parsed by a worker, else here."""
        parsed = self.parsed.pop(id(unit), None)
        return parse_unit(unit) if parsed is None else parsed


def _fail_on_empty_directories(paths: list[str], found: Discovered) -> None:
    """A CI gate pointed at the wrong directory must not pass on nothing. A directory whose
    files were all left out (down migrations, other engines) was read: its report says so."""
    files = (*found.sql_files, *found.alembic_revisions, *(Path(s.path) for s in found.skipped))
    for path in map(Path, paths):
        if path.is_dir() and not any(file.is_relative_to(path) for file in files):
            raise SourceError(
                f"{path} holds no migrations (.sql files or Alembic revisions): check the "
                "path (or the config's paths)."
            )


def _is_alembic_config(path: str) -> bool:
    return path.endswith(".ini")


def _alembic_configs(paths: list[str]) -> list[Path]:
    """The `alembic.ini` files among the paths: each names an Alembic project to check."""
    configs = [Path(p) for p in paths if _is_alembic_config(p)]
    if not configs:
        return []  # the pre-commit path: no Alembic module imported
    from bgmigrate.source.alembic.project import find_project

    for config in configs:
        if not config.is_file():
            raise SourceError(f"{config} does not exist: check the path.")
        if find_project(config) is None:
            raise SourceError(
                f"{config} names no Alembic revisions: its script_location (or "
                "version_locations) must be a directory with a versions/ folder."
            )
    return configs


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


class _Reported:
    """`--since`: reports the units changed since the ref, and remembers whether any was."""

    def __init__(self, since: str, cwd: Path) -> None:
        from bgmigrate.source.git import changed_since

        self.changes = changed_since(since, cwd)
        self.cwd = cwd
        self.any = False

    def __call__(self, unit: Unit) -> bool:
        reported = (self.cwd / unit.path).resolve() in self.changes.changed
        self.any = self.any or reported
        return reported

    def added(self, unit: Unit) -> bool:
        """Whether the unit belongs to the change: migrations added since the ref deploy
        together, so what one creates is new to the next."""
        return (self.cwd / unit.path).resolve() in self.changes.added
