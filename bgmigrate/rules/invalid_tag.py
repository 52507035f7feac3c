"""invalid-tag: a `bgmigrate:` comment the tool cannot act on (reported by the source)."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Operation


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # The SQL and Alembic sources report bad tags as unit problems; no operation triggers it.
    yield from ()


RULE = Rule(
    name="invalid-tag",
    category=Category.ROBUSTNESS,
    severity=Severity.ERROR,
    summary="A `bgmigrate:` tag with an unknown phase, an unknown word, or no rule to ignore.",
    why="""\
Tags change verdicts: `phase=contract` allows drops, `ignore` hides a finding. A tag bgmigrate
cannot read would otherwise be silently dropped, so a unit meant for the contract phase would be
checked as an expand unit, or an accepted hazard would fail CI for no visible reason. A phase tag
after the first statement is rejected too: the phase belongs to the whole unit, so it must stand
in the file's leading comments.""",
    safe_alternative="""\
Use one of the forms bgmigrate reads:

```sql
-- bgmigrate: phase=contract            (expand, backfill or contract; before the first statement)
-- bgmigrate: ignore rename-column -- why this is safe here
-- bgmigrate: ignore-file drop-column -- why
```""",
    visits=(),
    check=check,
    flagged=(
        Example(sql="-- bgmigrate: phase=cleanup\nSELECT 1;", line=1),
        Example(sql="-- bgmigrate: ignroe rename-column -- typo\nSELECT 1;", line=1),
        Example(sql="SELECT 1;\n-- bgmigrate: phase=contract\nSELECT 2;", line=2),
        Example(sql="-- bgmigrate: ignore -- forgot the rule\nSELECT 1;", line=1),
    ),
    passing=(
        Example(sql="-- bgmigrate: phase=backfill\nSELECT 1;"),
        Example(sql="-- bgmigrate is great, but this is not a tag\nSELECT 1;"),
        Example(
            sql="-- bgmigrate: phase=contract\nSET lock_timeout = '2s';\nALTER TABLE users DROP COLUMN legacy;",
        ),
    ),
)
