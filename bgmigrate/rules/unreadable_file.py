"""unreadable-file: a migration file bgmigrate could not read at all."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Rule, Violation
from bgmigrate.parse.operations import Operation
from bgmigrate.source.reading import UNREADABLE_FILE


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # Reading the file reports it; no operation triggers it.
    yield from ()


RULE = Rule(
    name=UNREADABLE_FILE,
    category=Category.ROBUSTNESS,
    severity=Severity.ERROR,
    summary="A migration file that could not be read, so nothing in it was checked.",
    why="""\
The file is named as a migration (or found in a migrations directory) but cannot be read: its
permissions forbid it, it is a symbolic link to nothing, or it is not a regular file. The
migration tool will fail on it too, or skip it silently; either way nothing in it was checked.
Every other file is still checked.""",
    safe_alternative="""\
Make the file readable by the user that runs bgmigrate (and the migration tool), or remove the
broken link.""",
    visits=(),
    check=check,
)
