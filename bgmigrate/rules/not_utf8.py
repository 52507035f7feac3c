"""not-utf8: a migration file with bytes that are not UTF-8."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Operation
from bgmigrate.source.reading import NOT_UTF8


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # Reading the file reports it, at the first undecodable byte; no operation triggers it.
    yield from ()


RULE = Rule(
    name=NOT_UTF8,
    category=Category.ROBUSTNESS,
    severity=Severity.WARNING,
    summary="A migration file that is not UTF-8 text: checked with its bad bytes replaced.",
    why="""\
A byte that is not UTF-8 (a Latin-1 `é` in a comment, a Windows-1252 quote) is sent to the
server as it is. With the usual UTF-8 client encoding PostgreSQL rejects the statement that
holds it (`invalid byte sequence for encoding "UTF8"`); in a comment, the tool may still read
the file differently from an editor. bgmigrate replaces the bad bytes to check the rest of the
file, and reports the first one.""",
    safe_alternative="""\
Save the file as UTF-8 (`iconv -f latin1 -t utf-8 FILE`), after checking that the tool has not
applied it already: re-encoding changes the checksum some tools keep.""",
    visits=(),
    check=check,
    flagged=(
        Example(sql="-- Café menu\nCREATE TABLE menu (id bigint);\n", encoding="latin-1", line=1),
        Example(
            sql="CREATE TABLE menu (id bigint);\nINSERT INTO menu VALUES (1); -- crème\n",
            encoding="latin-1",
            line=2,
        ),
        Example(sql="SELECT '\u201cquoted\u201d';\n", encoding="cp1252", line=1),
    ),
    passing=(
        Example(sql="-- Café menu\nCREATE TABLE menu (id bigint);\n"),
        Example(sql="SELECT '\u201cquoted\u201d';\n"),
        Example(sql="-- plain ASCII\nCREATE TABLE menu (id bigint);\n", encoding="latin-1"),
    ),
)
