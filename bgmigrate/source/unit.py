"""What the sources hand to the parser: migration units made of located statements."""

from __future__ import annotations

from enum import Enum

from bgmigrate.values import Value, field, value

__all__ = ["Location", "Phase", "SourceProblem", "Statement", "Suppression", "Unit", "UnitKind"]


class Phase(str, Enum):
    """When a unit runs relative to the blue-green switch (see rules.md, "Phase")."""

    EXPAND = "expand"
    BACKFILL = "backfill"
    CONTRACT = "contract"


class UnitKind(str, Enum):
    SQL = "sql"
    ALEMBIC = "alembic"


@value
class Location(Value):
    """A 1-based, inclusive span in a file: the first and the last character."""

    line: int
    column: int
    end_line: int
    end_column: int


@value
class Statement(Value):
    """One SQL statement as it will run, and where it stands in the file a user edits.

    For an Alembic revision, `sql` is the rendered SQL and `location` points at the
    `op.…` call in the `.py` file that produced it.
    """

    sql: str
    path: str
    location: Location
    index: int
    """The statement's position in its unit, from 0."""
    transaction: int | None = None
    """The transaction block the statement runs in, numbered from 1 within its unit (an
    explicit BEGIN, or the runner wrapping the unit); None when it runs in autocommit."""
    template: str = ""
    """The first template expression (`{{ … }}`, `${…}`) the migration tool expands inside
    this statement, substituted for parsing; "" when there is none."""
    written: str = ""
    """The statement as the file has it, when `sql` holds substituted templates; else ""."""
    unknowns: tuple[str, ...] = ()
    """What the statement holds in place of code that could not be imported, each as its
    kind and dotted name (`type myapp.db.types.UUID`): the verdicts on it depend on them."""
    existing_type: str = ""
    """For a change of a column's type, the column's type before it as the migration declares
    it, in SQL (Alembic's `op.alter_column(…, existing_type=…)`); "" when it does not."""
    existing_default: str = ""
    """For a `SET NOT NULL`, the column's DEFAULT before it as the migration declares it, in
    SQL (Alembic's `existing_server_default`); "" when it does not."""
    context: bool = False
    """Run by the environment before the unit's own statements (the `SET`s of an Alembic
    env.py): rules take it into account, but it is not the unit's to report."""

    @property
    def in_transaction(self) -> bool:
        return self.transaction is not None


@value
class Suppression(Value):
    """An `ignore` tag: `line` is the line the tag stands on; None for `ignore-file`."""

    rules: tuple[str, ...]
    reason: str
    line: int | None
    location: Location

    def covers(self, rule: str, category: str, statement: Location) -> bool:
        if rule not in self.rules and category not in self.rules:
            return False
        if self.line is None:
            return True
        return statement.line - 1 <= self.line <= statement.end_line


@value
class SourceProblem(Value):
    """A finding a source makes before any parsing, e.g. a revision it could not render."""

    rule: str
    message: str
    location: Location


@value
class Unit(Value):
    """One migration unit: a SQL file or an Alembic revision."""

    path: str
    kind: UnitKind
    phase: Phase
    statements: list[Statement] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    text: str = ""
    """The file's text, for reports that show the offending lines."""
    problems: list[SourceProblem] = field(default_factory=list)
    """Findings the source itself makes, e.g. `unanalysable-revision`."""
