"""How a rule is declared: its metadata, its examples and its check, side by side.

A rule module under `bgmigrate/rules/` defines one `RULE = Rule(...)`; the catalog
(`bgmigrate.rules.CATALOG`) lists them. The examples are the rule's tests and its documentation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bgmigrate.check.finding import Category, Severity
from bgmigrate.source.unit import Location, Phase
from bgmigrate.values import Value, field, frozen_value

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

    from bgmigrate.check.context import Context
    from bgmigrate.parse.operations import Operation

__all__ = ["Example", "Rule", "Violation"]


@frozen_value
class Violation(Value):
    """What a check returns: the engine turns it into a `Finding` with the rule's metadata.

    `location` defaults to the operation's own; `safe_alternative` to the rule's first line
    of advice when the check has nothing more specific to say.
    """

    message: str
    safe_alternative: str | None = None
    location: Location | None = None


@frozen_value
class Example(Value):
    """SQL a rule must flag (or must pass), with the circumstances that decide the verdict.

    `before` is SQL from an earlier migration unit: objects it creates already exist in
    production. `line` is the 1-based line of `sql` where a must-flag example is reported
    (default: the last statement's first line).
    """

    sql: str
    before: str = ""
    pg_version: int | None = None
    phase: Phase | None = None
    assume_in_transaction: bool = False
    line: int | None = None
    note: str = ""
    language: str = "sql"
    """`sql`, or `python` for an Alembic revision (its `line` is then a line of the `.py`)."""
    encoding: str = "utf-8"
    """The encoding the example's file is saved in (a legacy one shows `not-utf8`)."""


Check = Callable[["Any", "Context"], Iterable[Violation]]


@frozen_value
class Rule(Value):
    """A rule of the catalog. `visits` names the operation types `check` is called with
    (subclasses included); `why` and `safe_alternative` are Markdown."""

    name: str
    category: Category
    severity: Severity
    summary: str
    why: str
    safe_alternative: str
    visits: tuple[type[Operation], ...]
    check: Check
    flagged: tuple[Example, ...] = field(default=())
    passing: tuple[Example, ...] = field(default=())
    plan_command: str | None = None
    """The `bgmigrate plan …` form that does this change safely, when there is one."""
    lengthens_lock: bool = False
    """Its findings are about a lock held through a scan, a rewrite or an index build: one
    per table and transaction (`check.holds`)."""

    @property
    def documented_why(self) -> str:
        """`why` as `explain` and docs/rules.md print it: with the held-lock paragraph for
        the rules whose findings are merged per table and transaction."""
        if not self.lengthens_lock:
            return self.why.strip()
        return f"{self.why.strip()}\n\n{_HELD_LOCK_WHY}"


_HELD_LOCK_WHY = """\
Inside a transaction, locks are held until COMMIT. When an earlier statement of the same
transaction already holds a lock as strong on the table (an `ALTER TABLE`, another index
build), this statement takes no new lock: it keeps that one held for its whole duration, and
the message names the statements that took it. Such findings come once per table and
transaction, at the first statement that makes the hold long; the statements of a `DO` block
count as one transaction."""
