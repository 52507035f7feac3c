"""Alembic revisions → migration units, in revision-graph order, each statement located at
the `op.…` call in the `.py` file that produced it."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from bgmigrate.source.alembic.blind import BlindRun, render_blind
from bgmigrate.source.alembic.capture import Recorder, RevisionFailed, import_environment
from bgmigrate.source.alembic.failures import describe
from bgmigrate.source.alembic.graph import order_revisions
from bgmigrate.source.alembic.missing import (
    import_line,
    missing_imports_problem,
    what_was_missing,
)
from bgmigrate.source.alembic.offline import render_offline
from bgmigrate.source.alembic.online import ChainFailed, OnlineReplay, ReplayServer
from bgmigrate.source.alembic.project import AlembicProject, find_project, project_of_revision
from bgmigrate.source.alembic.revision import RevisionFile, read_revision
from bgmigrate.source.alembic.static import render_static
from bgmigrate.source.alembic.tags import revision_tags
from bgmigrate.source.errors import SourceError
from bgmigrate.source.unit import Location, Phase, SourceProblem, Unit, UnitKind

__all__ = [
    "DATA_BLIND_REVISION",
    "UNANALYSABLE_REVISION",
    "alembic_units",
]

UNANALYSABLE_REVISION = "unanalysable-revision"
"""The rule name of the `SourceProblem` a revision that cannot be rendered becomes."""
DATA_BLIND_REVISION = "data-blind-revision"
"""The rule name of the `SourceProblem` on a revision analysed with reads returning no rows."""


def alembic_units(paths: Iterable[Path | str], *, dsn: str | None = None) -> list[Unit]:
    """One unit per Alembic revision that `paths` name, in the order Alembic runs them.

    A path is a revision file, or a project (`alembic.ini`, a `pyproject.toml` with
    `[tool.alembic]`, a script directory, a versions directory, or a directory holding one
    of those): then all its revisions. Revisions of one project come base to heads; projects
    come in the order first named.

    Each revision renders offline; one that needs a database is replayed, with its ancestors,
    into PostgreSQL: the server at `dsn` (a superuser DSN; temporary databases are created
    and dropped there), else an embedded server started once for the call. One that cannot
    be replayed either runs data-blind (its reads return no rows), with a
    `data-blind-revision` problem saying so. A revision that still cannot be analysed becomes
    a unit without statements and with an `unanalysable-revision` problem saying why. Raises
    `SourceError` for a path that is neither a revision nor a project.
    """
    groups, unreadable = _group_by_project(Path(p) for p in paths)
    server = ReplayServer(dsn)
    try:
        units = []
        for project, selected in groups:
            if project.other_dialect is not None:
                units.append(_other_dialect_unit(project, selected))
                continue
            units.extend(_ProjectUnits(project, selected, server).units())
        return units + [_unreadable_unit(path) for path in unreadable]
    finally:
        server.close()


def _group_by_project(
    paths: Iterable[Path],
) -> tuple[list[tuple[AlembicProject, list[RevisionFile] | None]], list[Path]]:
    """The projects the paths belong to, each with the revisions named in it (None: all);
    and the files that look like revisions but cannot be read as one."""
    groups: dict[tuple[Path, ...], tuple[AlembicProject, list[RevisionFile] | None]] = {}
    unreadable: list[Path] = []
    # A history's revisions share a directory, and with it a project: its config and env.py
    # are read once, not once per revision.
    by_directory: dict[Path, AlembicProject] = {}
    named: set[tuple[tuple[Path, ...], Path]] = set()  # (project, revision file) pairs seen
    for path in paths:
        revision = read_revision(path) if path.suffix == ".py" and path.is_file() else None
        if revision is not None:
            if path.parent not in by_directory:
                by_directory[path.parent] = project_of_revision(path)
            project: AlembicProject | None = by_directory[path.parent]
        else:
            project = find_project(path)
        if project is None and path.suffix == ".py" and _looks_like_revision(path):
            unreadable.append(path)
            continue
        if project is None:
            raise SourceError(
                f"{path}: not an Alembic revision or project: name a revision file (with "
                "`revision =` and `def upgrade`), an alembic.ini, or a directory holding "
                "env.py and versions/."
            )
        key = tuple(d.resolve() for d in project.version_dirs)
        _, selected = groups.setdefault(key, (project, []))
        if revision is None:
            groups[key] = (project, None)
        elif selected is not None and (key, revision.file) not in named:
            named.add((key, revision.file))
            selected.append(revision)
    return list(groups.values()), unreadable


def _looks_like_revision(path: Path) -> bool:
    from bgmigrate.source.discover import is_alembic_revision

    try:
        return is_alembic_revision(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False


def _other_dialect_unit(project: AlembicProject, selected: list[RevisionFile] | None) -> Unit:
    """The revisions of a version directory kept for another database (`versions/sqlite/`
    beside `versions/postgresql/`, as Prefect lays them out): skipped, and said so once, on
    the first of them."""
    revisions = selected or sorted(project.revisions(), key=lambda r: str(r.path))
    first = revisions[0]
    folders = ", ".join(f"{d.name}/" for d in project.version_dirs)
    problem = SourceProblem(
        UNANALYSABLE_REVISION,
        f"Not checked: {folders} holds the revisions for {project.other_dialect}, not "
        f"PostgreSQL ({len(revisions)} revision{'s' if len(revisions) != 1 else ''} skipped, "
        "this one included); bgmigrate checks the history that runs on PostgreSQL.",
        _line(1),
    )
    return Unit(
        str(first.path), UnitKind.ALEMBIC, Phase.EXPAND, text=first.text, problems=[problem]
    )


def _unreadable_unit(path: Path) -> Unit:
    """A file with `revision =` and `def upgrade` that is not valid Python, or whose revision
    id is computed: Alembic cannot run it either, or not where it belongs."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        ast.parse(text, filename=str(path))
    except SyntaxError as error:
        line = error.lineno or 1
        why = f"it is not valid Python (SyntaxError: {error.msg} on line {line})"
    else:
        line = 1
        why = "its `revision` is not a string literal, so its place in the history is unknown"
    problem = SourceProblem(
        UNANALYSABLE_REVISION, f"This revision cannot be checked: {why}.", _line(line)
    )
    return Unit(str(path), UnitKind.ALEMBIC, Phase.EXPAND, text=text, problems=[problem])


class _ProjectUnits:
    """The units of one project's selected revisions, sharing one replay database."""

    def __init__(
        self,
        project: AlembicProject,
        selected: list[RevisionFile] | None,
        server: ReplayServer,
    ) -> None:
        self._project = project
        self._selected = selected
        self._server = server
        self._all: list[RevisionFile] | None = None
        self._replay: OnlineReplay | None = None
        self._environment_imported = False

    def units(self) -> list[Unit]:
        try:
            revisions = self._revisions()
            # Every revision is rendered without a database first; the embedded server that
            # the others need starts when the first of them is met, and comes up while the
            # rest render.
            rendered = [self._render_without_database(revision) for revision in revisions]
            return [self._unit(r, outcome) for r, outcome in zip(revisions, rendered, strict=True)]
        finally:
            if self._replay is not None:
                self._replay.close()

    def _revisions(self) -> list[RevisionFile]:
        if self._selected is not None and len(self._selected) == 1:
            return self._selected  # one file checked: no need to read its siblings
        ordered = self._ordered()
        if self._selected is None:
            return ordered
        wanted = {revision.file for revision in self._selected}
        named = [revision for revision in ordered if revision.file in wanted]
        found = {revision.file for revision in named}
        # A revision file outside the project's version directories still gets checked.
        return named + [r for r in self._selected if r.file not in found]

    def _ordered(self) -> list[RevisionFile]:
        if self._all is None:
            # The revisions named were read already: not again.
            read = {revision.file: revision for revision in self._selected or ()}
            self._all = order_revisions(self._project.revisions(read))
        return self._all

    def _unit(self, revision: RevisionFile, rendered: _Rendered) -> Unit:
        tags = revision_tags(revision)
        unit = Unit(
            path=str(revision.path),
            kind=UnitKind.ALEMBIC,
            phase=tags.phase,
            suppressions=tags.suppressions,
            text=revision.text,
            problems=tags.problems,
        )
        try:
            recorder, problems = self._render(revision, rendered)
        except _Unanalysable as problem:
            unit.problems.append(problem.problem)
        else:
            unit.problems.extend(problems)
            if recorder.stubs is not None and recorder.stubs.used:
                unit.problems.append(missing_imports_problem(recorder.stubs, self._project))
            # env.py's session settings run before each revision, outside its transaction.
            settings = [
                replace(setting, index=index)
                for index, setting in enumerate(self._project.environment.settings)
            ]
            unit.statements = settings + recorder.statements(unit.path, len(settings))
        return unit

    def _render_without_database(self, revision: RevisionFile) -> _Rendered:
        """The revision's recorder, read statically or rendered offline; the offline failure
        when it needs a database (the server is then started); or why it cannot be analysed."""
        static = render_static(revision, self._project)
        if static is not None:  # the same SQL, without importing Alembic and SQLAlchemy
            return static
        try:
            return self._render_offline(revision)
        except RevisionFailed as offline:
            from bgmigrate.source.alembic.stubs import ApplicationCodeNeeded

            if isinstance(offline.error, ApplicationCodeNeeded):
                return _Unanalysable(
                    import_line(offline.stubs, offline.error.name),
                    f"This revision cannot be checked: {offline.error} (line "
                    f"{offline.location.line})." + what_was_missing(offline.stubs, self._project),
                )
            if offline.stage == "import":
                return _Unanalysable(
                    offline.location,
                    f"Importing this revision raised {offline}, so its SQL cannot be rendered "
                    "and it is not checked."
                    + (
                        what_was_missing(offline.stubs, self._project)
                        or " Run bgmigrate where the application it imports is importable "
                        "(its project root, its virtualenv)."
                    ),
                )
            self._server.start()
            return offline
        except Exception as error:  # a revision can break anything; the run goes on
            return _Unanalysable(
                _line(1), f"Rendering this revision failed unexpectedly ({describe(error)})."
            )

    def _render(
        self, revision: RevisionFile, rendered: _Rendered
    ) -> tuple[Recorder, list[SourceProblem]]:
        """What the revision runs, and the problems of how it was analysed."""
        if isinstance(rendered, _Unanalysable):
            raise rendered
        if isinstance(rendered, RevisionFailed):
            return self._render_online(revision, rendered)
        return rendered, []

    def _render_offline(self, revision: RevisionFile) -> Recorder:
        """Offline rendering; on a failure, once per project, with env.py's imports loaded
        first (a revision may use what env.py imported), then again."""
        try:
            return render_offline(revision, self._project)
        except RevisionFailed:
            if self._environment_imported or not self._project.environment.imports:
                raise
        self._environment_imported = True
        import_environment(self._project)
        return render_offline(revision, self._project)

    def _render_online(
        self, revision: RevisionFile, offline: RevisionFailed
    ) -> tuple[Recorder, list[SourceProblem]]:
        before = f"Rendering this revision without a database failed ({offline})"
        try:
            if self._replay is None:
                self._replay = OnlineReplay(self._server, self._project, self._ordered())
            return self._replay.capture(revision), []
        except RevisionFailed as online:
            reason = f"running it on a temporary PostgreSQL failed too ({online})"
            location = online.location
        except ChainFailed as chain:
            reason = f"and it could not be replayed: {chain}"
            location = offline.location
        except Exception as error:  # no server, or a revision that breaks the replay itself
            from bgmigrate.embedded import EmbeddedServerFailed  # (which says why in one line)

            why = str(error) if isinstance(error, EmbeddedServerFailed) else describe(error)
            reason = f"and it could not be run on a temporary PostgreSQL ({why})"
            location = offline.location
        return self._render_blind(revision, f"{before}, {reason}", location)

    def _render_blind(
        self, revision: RevisionFile, failed: str, location: Location
    ) -> tuple[Recorder, list[SourceProblem]]:
        """The last resort, once offline rendering and the replay have `failed` (the first of
        them at `location`): the revision run with reads returning no rows."""
        try:
            run = render_blind(revision, self._project)
        except RevisionFailed as blind:
            raise _Unanalysable(
                location,
                f"{failed}; run with its reads returning no rows, it failed as well ({blind}, "
                f"line {blind.location.line}); its statements are not checked."
                + what_was_missing(blind.stubs, self._project),
            ) from blind
        return run.recorder, [_data_blind_problem(run, failed, location)]


def _data_blind_problem(run: BlindRun, failed: str, location: Location) -> SourceProblem:
    """Says that the unit's statements are those of a run whose reads found no rows."""
    if run.first_read is None:
        what = (
            "it ran with `context.is_offline_mode()` answering False and `op.get_bind()` "
            "connected to no data, and read no rows, so nothing it ran depended on data"
        )
    else:
        what = (
            "its reads through `op.get_bind()` returned no rows (the first at line "
            f"{run.first_read.line}), so branches that depend on data were not followed: "
            "the statements it would run for existing rows are not checked, the others are"
        )
    return SourceProblem(
        DATA_BLIND_REVISION,
        f"This revision was analysed data-blind: {what}. {failed}.",
        run.first_read or location,
    )


class _Unanalysable(Exception):
    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.problem = SourceProblem(UNANALYSABLE_REVISION, message, location)


_Rendered = Recorder | RevisionFailed | _Unanalysable
"""A revision rendered without a database: its recorder, the failure that sends it to a
replay, or why it cannot be analysed."""


def _line(line: int) -> Location:
    return Location(line, 1, line, 1)
