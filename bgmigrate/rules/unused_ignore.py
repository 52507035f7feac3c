"""unused-ignore: an ignore tag that suppresses nothing (reported by the engine itself)."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Operation


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # The engine reports this rule after a unit's findings are known; no operation triggers it.
    yield from ()


RULE = Rule(
    name="unused-ignore",
    category=Category.STYLE,
    severity=Severity.WARNING,
    summary="An ignore tag that suppresses no finding.",
    why="""\
An ignore tag that no longer suppresses anything hides the next real problem on that line,
and misleads reviewers into thinking a hazard was accepted. Usually the statement it covered
was fixed or moved.""",
    safe_alternative="""\
Delete the tag, or move it to the line of the statement (or the line before it) whose finding
it is meant to suppress.""",
    visits=(),
    check=check,
    flagged=(
        Example(
            sql="-- bgmigrate: ignore rename-column -- legacy\n"
            "CREATE TABLE t (id bigint PRIMARY KEY);",
            line=1,
        ),
        Example(
            sql="-- bgmigrate: ignore-file drop-table -- cleanup\nSELECT 1;",
            line=1,
        ),
        Example(
            sql="SELECT 1;\n-- bgmigrate: ignore truncate-table -- moved below\n\n\nSELECT 2;",
            line=2,
        ),
    ),
    passing=(
        Example(
            sql="SET lock_timeout = '2s';\n"
            "-- bgmigrate: ignore rename-column -- nothing reads this column yet\n"
            "ALTER TABLE users RENAME COLUMN email TO email_address;",
        ),
        Example(
            sql="-- bgmigrate: ignore-file truncate-table -- staging data only\n"
            "SET lock_timeout = '2s';\nTRUNCATE staging_events;",
        ),
        Example(sql="SELECT 1;"),
    ),
)
