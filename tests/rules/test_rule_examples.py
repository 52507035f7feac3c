"""Every example in every rule module is a test: must-flag examples report the rule at the
expected line; must-pass examples report none of the catalog's rules."""

from __future__ import annotations

import pytest

from bgmigrate.check.api import check_sql
from bgmigrate.check.rule import Example, Rule
from bgmigrate.rules import CATALOG


def _cases(kind: str) -> list:
    return [
        pytest.param(rule, example, id=f"{rule.name}-{index}")
        for rule in CATALOG.values()
        for index, example in enumerate(getattr(rule, kind))
    ]


def _run(example: Example):
    if example.language == "python" or example.encoding != "utf-8":
        return _run_file(example)
    return check_sql(
        example.sql,
        before=example.before,
        pg_version=example.pg_version or 16,
        phase=example.phase,
        assume_in_transaction=example.assume_in_transaction,
    )


def _run_file(example: Example):
    """An Alembic example is checked as a revision file in a fresh versions directory, an
    example in another encoding as a file saved in it."""
    import tempfile
    from pathlib import Path

    from bgmigrate.check.runner import CheckOptions, run_check

    with tempfile.TemporaryDirectory() as directory:
        name = "a1_example.py" if example.language == "python" else "1_example.sql"
        file = Path(directory, "versions", name)
        file.parent.mkdir()
        file.write_bytes(example.sql.encode(example.encoding))
        return run_check(CheckOptions(paths=(str(file),), cwd=Path(directory)))


def _expected_line(example: Example) -> int:
    if example.line is not None:
        return example.line
    from bgmigrate.source.sql import read_sql_unit

    return read_sql_unit("m.sql", example.sql).statements[-1].location.line


@pytest.mark.parametrize(("rule", "example"), _cases("flagged"))
def test_flagged_example_reports_its_rule_at_its_line(rule: Rule, example: Example) -> None:
    findings = [f for f in _run(example).findings if not f.suppressed]
    lines = sorted(f.location.line for f in findings if f.rule == rule.name)
    assert _expected_line(example) in lines, (
        f"{rule.name} expected at line {_expected_line(example)}; got "
        f"{[(f.rule, f.location.line) for f in findings]}"
    )


@pytest.mark.parametrize(("rule", "example"), _cases("passing"))
def test_passing_example_reports_nothing(rule: Rule, example: Example) -> None:
    findings = [f for f in _run(example).findings if not f.suppressed]
    assert findings == [], [(f.rule, f.location.line, f.message) for f in findings]


# No text can show a file that cannot be read; tests/test_layouts.py reads such files.
_WITHOUT_EXAMPLES = {"unreadable-file"}


@pytest.mark.parametrize("rule", list(CATALOG.values()), ids=list(CATALOG))
def test_rule_has_documentation_and_three_examples_each_way(rule: Rule) -> None:
    assert rule.summary.strip() and rule.why.strip() and rule.safe_alternative.strip()
    if rule.name in _WITHOUT_EXAMPLES:
        return
    assert len(rule.flagged) >= 3, "at least three must-flag examples"
    assert len(rule.passing) >= 3, "at least three must-pass examples"


def test_rule_names_are_unique_kebab_case() -> None:
    import re

    for name, rule in CATALOG.items():
        assert name == rule.name
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", name), name
