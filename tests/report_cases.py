"""A hand-made `check` result that every report format test renders.

Two SQL units with findings (one suppressed, one multi-line statement, one message with
non-ASCII text and `%`, two statements on one line) and an Alembic unit without any.
"""

from __future__ import annotations

from dataclasses import replace

from bgmigrate.check.finding import Category, Finding, Severity
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.unit import Location, Phase, Statement, Unit, UnitKind

__all__ = [
    "MULTI_LINE_MESSAGE",
    "ORDERS_PATH",
    "ORDERS_TEXT",
    "RENAME_PATH",
    "RENAME_STATEMENT",
    "RENAME_TEXT",
    "catalog",
    "sample_result",
    "shifted",
]

RENAME_PATH = "migrations/0002_rename.sql"
RENAME_STATEMENT = "ALTER TABLE users RENAME COLUMN email TO email_address"
DROP_COLUMN_STATEMENT = "ALTER TABLE users DROP COLUMN legacy"
RENAME_TEXT = (
    "-- rename the contact column\n"
    f"{RENAME_STATEMENT};\n"
    "-- bgmigrate: ignore drop-column -- nobody reads legacy since v2\n"
    "ALTER TABLE users DROP COLUMN legacy;\n"
)

ORDERS_PATH = "migrations/0003_orders.sql"
ORDERS_ADD = "ALTER TABLE orders\n    ADD COLUMN total numeric NOT NULL,\n    ADD COLUMN note text"
ORDERS_TEXT = f"{ORDERS_ADD};\nSET lock_timeout = '2s'; DROP INDEX orders_old_idx;\n"
MULTI_LINE_MESSAGE = (
    "Adding orders.total NOT NULL without a default fails on 100% of existing rows — "
    "and the old app’s INSERTs omit it."
)

ALEMBIC_PATH = "alembic/versions/3f2a_add_orders.py"


def _statement(sql: str, path: str, location: Location, index: int) -> Statement:
    return Statement(sql=sql, path=path, location=location, index=index)


RENAME_SPAN = Location(2, 1, 2, len(RENAME_STATEMENT))
DROP_COLUMN_SPAN = Location(4, 1, 4, 36)
ORDERS_ADD_SPAN = Location(1, 1, 3, 24)
DROP_INDEX_SPAN = Location(4, 26, 4, 50)


def sample_result() -> CheckResult:
    units = [
        Unit(
            path=RENAME_PATH,
            kind=UnitKind.SQL,
            phase=Phase.EXPAND,
            statements=[
                _statement(RENAME_STATEMENT, RENAME_PATH, RENAME_SPAN, 0),
                _statement(DROP_COLUMN_STATEMENT, RENAME_PATH, DROP_COLUMN_SPAN, 1),
            ],
            text=RENAME_TEXT,
        ),
        Unit(
            path=ORDERS_PATH,
            kind=UnitKind.SQL,
            phase=Phase.EXPAND,
            statements=[
                _statement(ORDERS_ADD, ORDERS_PATH, ORDERS_ADD_SPAN, 0),
                _statement("SET lock_timeout = '2s'", ORDERS_PATH, Location(4, 1, 4, 23), 1),
                _statement("DROP INDEX orders_old_idx", ORDERS_PATH, DROP_INDEX_SPAN, 2),
            ],
            text=ORDERS_TEXT,
        ),
        Unit(
            path=ALEMBIC_PATH,
            kind=UnitKind.ALEMBIC,
            phase=Phase.CONTRACT,
            statements=[
                _statement("DROP TABLE orders_archive", ALEMBIC_PATH, Location(12, 5, 12, 37), 0)
            ],
            text="",
        ),
    ]
    units = [CheckedUnit.of(unit) for unit in units]
    findings = [
        Finding(
            rule="rename-column",
            category=Category.COMPAT,
            severity=Severity.ERROR,
            path=RENAME_PATH,
            location=RENAME_SPAN,
            statement=RENAME_STATEMENT,
            message=(
                "Renaming users.email breaks the version still running (blue): "
                "its queries name email."
            ),
            safe_alternative="bgmigrate plan rename users.email email_address",
        ),
        Finding(
            rule="drop-column",
            category=Category.COMPAT,
            severity=Severity.ERROR,
            path=RENAME_PATH,
            location=DROP_COLUMN_SPAN,
            statement=DROP_COLUMN_STATEMENT,
            message="Dropping users.legacy outside a contract unit breaks the old app.",
            safe_alternative="Move the drop to a contract unit.",
            suppressed=True,
            suppression_reason="nobody reads legacy since v2",
        ),
        Finding(
            rule="add-not-null-column-without-default",
            category=Category.COMPAT,
            severity=Severity.ERROR,
            path=ORDERS_PATH,
            location=ORDERS_ADD_SPAN,
            statement=ORDERS_ADD,
            message=MULTI_LINE_MESSAGE,
            safe_alternative="bgmigrate plan add-column orders.total numeric --not-null",
        ),
        Finding(
            rule="drop-index-non-concurrently",
            category=Category.LOCKING,
            severity=Severity.WARNING,
            path=ORDERS_PATH,
            location=DROP_INDEX_SPAN,
            statement="DROP INDEX orders_old_idx",
            message="DROP INDEX orders_old_idx locks orders against reads and writes.",
            safe_alternative="DROP INDEX CONCURRENTLY orders_old_idx;",
        ),
        Finding(
            rule="require-lock-timeout",
            category=Category.ROBUSTNESS,
            severity=Severity.INFO,
            path=ORDERS_PATH,
            location=ORDERS_ADD_SPAN,
            statement=ORDERS_ADD,
            message="ALTER TABLE orders waits for its lock without a lock_timeout.",
            safe_alternative="",
        ),
    ]
    return CheckResult(units=units, findings=findings, pg_version=15)


def shifted(result: CheckResult, lines: int) -> CheckResult:
    """The same findings after `lines` lines were added above every statement."""
    findings = [
        replace(
            finding,
            location=replace(
                finding.location,
                line=finding.location.line + lines,
                end_line=finding.location.end_line + lines,
            ),
        )
        for finding in result.findings
    ]
    return CheckResult(units=result.units, findings=findings, pg_version=result.pg_version)


def _no_violations(operation: object, context: object) -> list:
    return []


def _rule(name: str, category: Category, severity: Severity, summary: str) -> Rule:
    return Rule(
        name=name,
        category=category,
        severity=severity,
        summary=summary,
        why=f"Why {name} matters: the old app *still runs*.",
        safe_alternative="Follow the expand/contract recipe.",
        visits=(),
        check=_no_violations,
    )


def catalog() -> dict[str, Rule]:
    """Rules for the sample's findings, except `require-lock-timeout`: renderers must cope
    with a finding whose rule the catalog does not hold (e.g. `syntax-error`)."""
    rules = [
        _rule("rename-column", Category.COMPAT, Severity.ERROR, "A rename breaks the old app."),
        _rule("drop-column", Category.COMPAT, Severity.ERROR, "A drop breaks the old app."),
        _rule(
            "add-not-null-column-without-default",
            Category.COMPAT,
            Severity.ERROR,
            "A NOT NULL column without a default breaks the old app's inserts.",
        ),
        _rule(
            "drop-index-non-concurrently",
            Category.LOCKING,
            Severity.WARNING,
            "DROP INDEX without CONCURRENTLY blocks the table's traffic.",
        ),
    ]
    return {rule.name: rule for rule in rules}
