"""One `bgmigrate check` run: options and config → units → engine → result."""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bgmigrate.check.collector import fewer_collections, steady_heap
from bgmigrate.check.engine import (
    CheckSettings,
    SelectionError,
    check_units,
    checked_units,
    parse_unit,
    select_rules,
)
from bgmigrate.check.finding import Severity
from bgmigrate.check.report.stream import (
    Collected,
    ReportWriter,
    Sink,
    Spool,
    StreamBroken,
    feed,
    report_order,
)
from bgmigrate.check.result import CheckResult
from bgmigrate.config import Config, ConfigError, load_config
from bgmigrate.parse.operations import Operation
from bgmigrate.source.discover import Discovered
from bgmigrate.source.errors import SourceError
from bgmigrate.source.layouts.base import MigrationFile
from bgmigrate.source.layouts.read import ReadMigration
from bgmigrate.source.unit import Unit
from bgmigrate.values import Value, frozen_value, replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from bgmigrate.check.cache import (
        CheckCache,
        KeyBeforeFiles,
        RunRecorder,
        StoredReport,
    )

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
    """Check what the options and the config name, in memory; raises `CheckProblem` when it
    cannot. (`check_report` writes the report as it checks, holding neither.)"""
    run = _Run(options)
    try:
        result = run.replayed()
        if result is None:
            with fewer_collections():
                result = check_units(run.reading.units(), run.settings, run.reading.operations)
            result.skipped = run.reading.skipped
            recorder = run.recorder()
            if recorder is not None:
                feed(result, recorder)
                run.store(recorder)
        result.layouts = run.layouts
    except (ConfigError, SourceError) as error:
        raise CheckProblem(str(error)) from error
    result.notes.extend(run.notes(len(result.units)))
    return result


def check_report(options: CheckOptions, report_format: str, *, color: bool) -> CheckReport:
    """The run's report in `report_format` (`bgmigrate.check.report.FORMATS`), written as the
    run goes into a spool (memory, then a temporary file): neither its findings nor its
    report are held. With the cache, an unchanged run's report is the one stored, neither
    decoded nor rendered again, and a run cached in another format is rendered from its
    entry."""
    from bgmigrate.check.report import writer
    from bgmigrate.rules import CATALOG

    run = _Run(options)
    report_key = run.key.report(report_format, color) if run.key else None
    stored = run.cache.load_report(report_key) if run.cache and report_key else None
    if stored is not None:
        run.reported(stored.reported_any)
        return CheckReport(stored, run.notes(stored.units), stored.worst)
    spool = Spool()
    report = writer(report_format)(
        spool, CATALOG, color=color, pg_version=run.settings.pg_version, layouts=run.layouts
    )
    try:
        as_keyed = run.written(report)
    except (ConfigError, SourceError) as error:
        spool.close()
        raise CheckProblem(str(error)) from error
    except StreamBroken:
        spool.close()
        return _in_memory(options, report_format, color=color)
    tally = report.tally
    if run.cache and report_key and as_keyed:
        reported_any = bool(run.since and run.since.any)
        run.cache.store_report(
            report_key,
            spool.byte_chunks(),
            tally.worst,
            reported_any=reported_any,
            units=tally.units,
        )
    return CheckReport(spool, run.notes(tally.units), tally.worst)


def _in_memory(options: CheckOptions, report_format: str, *, color: bool) -> CheckReport:
    """The report rendered from the whole result, checked again without the cache: for a run
    whose units come back to a path after others (its findings belong before theirs, and
    were not written there) or whose cached entry could not be decoded."""
    from bgmigrate.check.report import FORMATS
    from bgmigrate.rules import CATALOG

    result = run_check(replace(options, cache=False))
    spool = Spool()
    spool.write(FORMATS[report_format](result, CATALOG, color=color))
    worst = max(
        (f.severity for f in result.findings if not f.suppressed),
        key=lambda severity: severity.rank,
        default=None,
    )
    return CheckReport(spool, result.notes, worst)


class CheckReport:
    """A rendered run: the report (copied once, by `write_to`), the notes for stderr, and the
    highest severity of its unsuppressed findings (what `--fail-on` is compared with)."""

    def __init__(
        self, text: Spool | StoredReport, notes: Sequence[str], worst: Severity | None
    ) -> None:
        self._text, self.notes, self.worst = text, tuple(notes), worst

    def fails(self, fail_on: Severity | None) -> bool:
        """True when an unsuppressed finding is at or above `fail_on` (None: never fail)."""
        return fail_on is not None and self.worst is not None and self.worst.rank >= fail_on.rank

    def write_to(self, out: Sink) -> None:
        """Copy the report to `out`, ending it with a line break if it has text."""
        try:
            last = self._text.copy_to(out)
        finally:
            self._text.close()
        if last and not last.endswith("\n"):
            out.write("\n")


class _Run:
    """One run's settings, reading and cache, resolved from the options and the config."""

    def __init__(self, options: CheckOptions) -> None:
        from bgmigrate.rules import LISTED

        self.options = options
        self.cwd = cwd = options.cwd or Path.cwd()
        try:
            self.config = config = load_config(options.config_file, start=cwd)
            rules = select_rules(
                LISTED,  # each rule's module imported when the check first needs it
                select=options.select or config.select,
                ignore=(*config.ignore, *options.ignore),
                severity={rule: Severity(level) for rule, level in config.severity.items()},
            )
            self._notes: list[str] = []
            self.reading = _Reading(options, config, cwd, self._notes)
            self.since = _Reported(options.since, cwd) if options.since else None
            self.settings = CheckSettings(
                pg_version=options.pg_version or config.pg_version or DEFAULT_PG_VERSION,
                rules=rules,
                report=self.since or _everything,
                change=self.since.added if self.since else _nothing,
                lock_timeout_set_by_runner=_runner_sets_lock_timeout(config, cwd),
            )
            self._key_start = _cache_key(
                options, config, cwd, self.reading, self.settings, self.since
            )
            self.key = self._key_start.with_files() if self._key_start else None
            self.cache = _open_cache(config) if self.key else None
            self.layouts = [
                (_display(path, cwd), name) for path, name in self.reading.found.layouts
            ]
        except (ConfigError, SourceError, SelectionError) as error:
            raise CheckProblem(str(error)) from error

    def reported(self, reported_any: bool) -> None:
        """A cached run's `--since` outcome, as if this run had reported its units."""
        if self.since is not None:
            self.since.any = reported_any

    def notes(self, read: int) -> list[str]:
        return _with_since(self._notes, self.since, self.options, read)

    def replayed(self) -> CheckResult | None:
        """The cached run, if there is one, as a result."""
        if self.cache is None or self.key is None:
            return None
        collected = Collected(self.settings.pg_version, self.layouts)
        try:
            reported_any = self.cache.replay(self.key, collected)
        except StreamBroken:
            return None
        if reported_any is None:
            return None
        self.reported(reported_any)
        return collected.result

    def written(self, report: ReportWriter) -> bool:
        """Hand the run to `report` and finish it: from the cache, else checked (and cached)
        as it goes. Returns whether the run is the one its key names (its report may be
        stored)."""
        if self.cache is not None and self.key is not None:
            reported_any = self.cache.replay(self.key, report)
            if reported_any is not None:
                self.reported(reported_any)
                return True
        recorder = self.recorder()
        reports = (report,) if recorder is None else (report, recorder)
        try:
            with fewer_collections():
                checked = checked_units(
                    self.reading.units(), self.settings, self.reading.operations
                )
                report_order(checked, *reports)
            for each in reports:
                each.finish(self.reading.skipped)
        except BaseException:
            if recorder is not None:
                recorder.discard()
            raise
        return recorder is not None and self.store(recorder)

    def recorder(self) -> RunRecorder | None:
        """A cache entry for this run, written as it goes; None without a cache."""
        return self.cache.recorder(self.key) if self.cache and self.key else None

    def store(self, recorder: RunRecorder) -> bool:
        """Store the recorded run, unless a file was edited while it was checked: its result
        belongs to neither key. Returns whether it was the run of its key."""
        if (
            self._key_start is None
            or self.key is None
            or self._key_start.with_files().digest != self.key.digest
        ):
            recorder.discard()
            return False
        recorder.commit(reported_any=bool(self.since and self.since.any))
        return True


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
) -> KeyBeforeFiles | None:
    """This run's key in the cache (see `bgmigrate.check.cache`) but for the migration files'
    bytes; None when not cached."""
    if not options.cache or reading.alembic_projects or reading.found.alembic_revisions:
        return None
    from bgmigrate.check.cache import CheckKey, KeyBeforeFiles

    key = CheckKey()
    key.add(str(cwd), repr(config), settings.pg_version, options.stdin_text, reading.stdin)
    key.add(options.stdin_filename, repr(reading.found))
    key.add_rules(settings.rules)
    if report is not None:
        key.add(sorted(map(str, report.changes.changed)), sorted(map(str, report.changes.added)))
    return KeyBeforeFiles(key, tuple(str(migration.path) for migration in reading.found.migrations))


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
        """The units, in migration order, read as they are asked for: one pass (each
        migration file is let go once read)."""
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

        # Each file is let go once read: the run ends holding none of them (a cached run
        # keeps their paths, as strings, to hash them again: `KeyBeforeFiles`).
        pending = deque(self.found.migrations)
        self.found = replace(self.found, migrations=())
        many = len(pending) >= workers.PARALLEL_FROM
        if many:
            steady_heap()
        jobs = self.options.jobs
        if jobs is None:
            jobs = workers.available_cpus() if many else 1
        cwd = self.cwd
        if jobs <= 1:
            while pending:
                migration = pending.popleft()
                path = _display(migration.path, cwd)
                yield workers.read_file(migration, path, assume_in_transaction=wrapped)
            return
        for read, operations in workers.read_in_workers(
            _drained(pending, cwd), assume_in_transaction=wrapped, jobs=jobs
        ):
            if read.unit is not None:
                self.parsed[id(read.unit)] = operations
            yield read

    def operations(self, unit: Unit) -> Sequence[list[Operation]]:
        """A unit's operations: parsed by a worker, else here."""
        parsed = self.parsed.pop(id(unit), None)
        return parse_unit(unit) if parsed is None else parsed


def _drained(pending: deque[MigrationFile], cwd: Path) -> list[tuple[MigrationFile, str]]:
    """The pending migrations with their paths as the report shows them, `pending` emptied:
    no one else holds them, so `read_in_workers` lets each go once read."""
    inside = _inside(cwd)
    shown_folders: dict[str, str | None] = {}
    """By folder: how the report shows the paths in it, "" for the working directory (None:
    not inside it as written, each file's path resolved on its own). One `normpath` per
    folder instead of one per file: thousands of files, before the workers start."""
    listed = []
    for migration in pending:
        folder, _, name = str(migration.path).rpartition(os.sep)
        if folder not in shown_folders:
            written = os.path.join(os.path.normpath(folder or os.sep), "")
            shown_folders[folder] = _relative_inside(written, inside)
        shown = shown_folders[folder]
        if shown is None or name in ("", ".", ".."):
            listed.append((migration, _display(migration.path, cwd)))
        else:
            listed.append((migration, shown + name))
    pending.clear()
    return listed


def _fail_on_empty_directories(paths: list[str], found: Discovered) -> None:
    """A CI gate pointed at the wrong directory must not pass on nothing. A directory whose
    files were all left out (down migrations, other engines) was read: its report says so."""
    files = (*found.sql_files, *found.alembic_revisions, *(Path(s.path) for s in found.skipped))
    for path in map(Path, paths):
        if path.is_dir() and not any(file.is_relative_to(path) for file in files):
            raise SourceError(
                f"{path} holds no migrations (SQL files, Alembic revisions or Liquibase "
                "changelogs): check the path (or the config's paths)."
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
    shown = _relative_inside(os.path.normpath(path), _inside(cwd))
    if shown is not None:
        return shown
    try:
        return path.resolve().relative_to(_resolved(cwd)).as_posix()
    except ValueError:
        return path.as_posix()


def _relative_inside(written: str, inside: str) -> str | None:
    """A normalised path as the report shows it when it starts with `inside` (see `_inside`),
    else None. Both normalised: the rest is the relative path, no `.` or `..` to resolve."""
    if not written.startswith(inside):
        return None
    return written[len(inside) :].replace(os.sep, "/")


@functools.lru_cache(maxsize=8)
def _inside(directory: Path) -> str:
    """How the normalised paths inside `directory` start."""
    return os.path.normpath(directory).rstrip(os.sep) + os.sep


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
