"""Compare `bgmigrate check` with squawk's own rule tests, on the rules both tools share.

squawk's linter keeps each rule's tests beside the rule (`crates/squawk_linter/src/rules/*.rs`):
SQL in a raw string, and the verdict as the call that checks it (`lint_ok` / `lint_errors`,
`…_with` for settings: `pg_version`, `assume_in_transaction`). This script reads those tests
from a checkout of squawk, checks each SQL with bgmigrate (squawk's default PostgreSQL version,
15, unless the test sets one) and compares: a test agrees when bgmigrate's matching rules flag
the SQL exactly when squawk's test expects an error.

A disagreement counts as documented when `docs/rules.md`, section "bgmigrate and squawk",
names its test (`rule_file::test_name`) in the first column of its table, with the reason.

    python benchmarks/squawk_agreement.py /tmp/squawk            # a checkout or an archive of it
    python benchmarks/squawk_agreement.py /tmp/squawk --record   # also rewrite RESULTS.md's section
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from results_file import machine_lines, write_section

from bgmigrate.check.api import check_sql
from bgmigrate.check.engine import select_rules
from bgmigrate.rules import CATALOG

RULES_DIR = "crates/squawk_linter/src/rules"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
DOCS_SECTION = "## bgmigrate and squawk"
SQUAWK_DEFAULT_PG_VERSION = 15

SHARED = {
    "adding_field_with_default": (
        "add-column-volatile-default",
        "add-column-with-default-pre-pg11",
        "add-generated-column",
    ),
    "adding_foreign_key_constraint": ("add-foreign-key-without-not-valid",),
    "adding_not_null_field": ("set-not-null",),
    "adding_required_field": ("add-not-null-column-without-default",),
    "ban_concurrent_index_creation_in_transaction": ("concurrently-in-transaction",),
    "ban_drop_column": ("drop-column",),
    "ban_drop_table": ("drop-table",),
    "ban_truncate_cascade": ("truncate-table",),
    "changing_column_type": ("change-column-type",),
    "constraint_missing_not_valid": (
        "add-check-constraint-without-not-valid",
        "add-foreign-key-without-not-valid",
        "validate-in-same-transaction",
    ),
    "disallow_unique_constraint": ("add-unique-constraint-without-index",),
    "renaming_column": ("rename-column",),
    "renaming_table": ("rename-table",),
    "require_concurrent_index_creation": ("create-index-non-concurrently",),
    "require_concurrent_index_deletion": ("drop-index-non-concurrently",),
    "require_timeout_settings": ("require-lock-timeout",),
}
"""squawk's rule (the module its tests live in) → the bgmigrate rules that judge the same
hazard."""

_TEST = re.compile(r"#\[test\]\s*fn (\w+)\(\)\s*\{(.*?)(?=\n\s*#\[test\]|\Z)", re.DOTALL)
_RAW_SQL = re.compile(r'let sql = r(#*)"(.*?)"\1;', re.DOTALL)
_PLAIN_SQL = re.compile(r'let sql = "((?:[^"\\]|\\.)*)";', re.DOTALL)
_RULE = re.compile(r"Rule::(\w+)")
_VERDICT = re.compile(r"\b(lint_ok|lint_errors|fix_sql)(?:_with)?\(")
_PG_VERSION = re.compile(r'pg_version:\s*"(\d+)')
_ASSUME = re.compile(r"assume_in_transaction:\s*true")


@dataclass
class Case:
    file: str
    test: str
    squawk_rule: str
    sql: str
    flagged: bool
    pg_version: int
    assume_in_transaction: bool

    @property
    def name(self) -> str:
        return f"{self.file}::{self.test}"


def read_cases(checkout: Path) -> tuple[list[Case], int]:
    """squawk's tests of the shared rules, one case per test with one SQL and one verdict;
    and how many tests of those rules were left out (several SQL texts or verdicts)."""
    cases, left_out = [], 0
    for source in sorted((checkout / RULES_DIR).glob("*.rs")):
        text = source.read_text(encoding="utf-8")
        tests = text[text.find("#[cfg(test)]") :]
        # The module's own rule is the one its tests name most; a test of another rule
        # kept beside it (require_timeout_settings also tests RequireStatementTimeout) is
        # not this rule's.
        named = Counter(_RULE.findall(tests)).most_common(1)
        own = named[0][0] if named else None
        for test, body in _TEST.findall(tests):
            if any(rule != own for rule in _RULE.findall(body)):
                continue
            sqls = [m[1] for m in _RAW_SQL.findall(body)] + _PLAIN_SQL.findall(body)
            verdicts = _VERDICT.findall(body)
            if source.stem not in SHARED:
                continue
            if len(sqls) != 1 or len(set(verdicts)) != 1:
                left_out += 1
                continue
            version = _PG_VERSION.search(body)
            cases.append(
                Case(
                    file=source.stem,
                    test=test,
                    squawk_rule=source.stem,
                    sql=sqls[0],
                    flagged=verdicts[0] != "lint_ok",
                    pg_version=int(version[1]) if version else SQUAWK_DEFAULT_PG_VERSION,
                    assume_in_transaction=bool(_ASSUME.search(body)),
                )
            )
    return cases, left_out


def bgmigrate_flags(case: Case) -> bool:
    rules = select_rules(CATALOG, select=SHARED[case.squawk_rule])
    result = check_sql(
        case.sql,
        pg_version=case.pg_version,
        assume_in_transaction=case.assume_in_transaction,
        rules=rules,
    )
    return any(not finding.suppressed for finding in result.findings)


def documented_differences() -> dict[str, str]:
    """Test name → reason, from the table in docs/rules.md's squawk section."""
    text = DOCS.read_text(encoding="utf-8")
    if DOCS_SECTION not in text:
        return {}
    section = text.split(DOCS_SECTION, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w:]+)` \|[^|]*\|[^|]*\| (.*?) \|$", section, re.MULTILINE)
    return dict(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="squawk's source tree")
    parser.add_argument("--record", action="store_true", help="rewrite RESULTS.md's section")
    parser.add_argument("--revision", default="unknown", help="the squawk commit, to record")
    arguments = parser.parse_args()
    cases, left_out = read_cases(arguments.checkout)
    documented = documented_differences()
    agree, differ, undocumented = Counter(), Counter(), []
    for case in cases:
        ours = bgmigrate_flags(case)
        if ours == case.flagged:
            agree[case.squawk_rule] += 1
            continue
        differ[case.squawk_rule] += 1
        if case.name not in documented:
            squawk = "flags" if case.flagged else "passes"
            mine = "flags" if ours else "passes"
            undocumented.append(f"{case.name}: squawk {squawk}, bgmigrate {mine}")
    for line in undocumented:
        print("undocumented:", line)
    stale = set(documented) - {c.name for c in cases}
    for name in sorted(stale):
        print("documented but not a squawk test here:", name)
    total = len(cases)
    agreed = sum(agree.values())
    explained = agreed + sum(differ.values()) - len(undocumented)
    summary = (
        f"{total} squawk tests of {len(SHARED)} shared rules: {agreed} agree "
        f"({100 * agreed / total:.1f}%), {sum(differ.values())} differ, of which "
        f"{sum(differ.values()) - len(undocumented)} documented; agree or documented: "
        f"{explained} ({100 * explained / total:.1f}%); {left_out} tests left out (several SQL "
        "texts or verdicts in one test)"
    )
    print(summary)
    if arguments.record:
        rows = [
            f"| {rule} | {', '.join(SHARED[rule])} | {agree[rule]} | {differ[rule]} |"
            for rule in sorted(SHARED)
        ]
        write_section(
            "squawk-agreement",
            "\n".join(
                [
                    "## Agreement with squawk's rule tests (`benchmarks/squawk_agreement.py`)",
                    "",
                    *machine_lines(),
                    f"- squawk: sbdchd/squawk at commit {arguments.revision}",
                    "",
                    summary + ".",
                    "",
                    "| squawk rule | bgmigrate rules | agree | differ (documented) |",
                    "|---|---|---|---|",
                    *rows,
                ]
            ),
        )
    return 1 if undocumented or stale else 0


if __name__ == "__main__":
    sys.exit(main())
