"""concurrently-in-transaction beyond its examples: the message says who opened the
transaction, and the advice fits the runner."""

from __future__ import annotations

from bgmigrate.check.api import check_sql
from bgmigrate.check.engine import CheckSettings, check_units
from bgmigrate.rules import CATALOG
from bgmigrate.source.unit import Location, Phase, Statement, Unit, UnitKind

RULE = "concurrently-in-transaction"
CREATE = "CREATE INDEX CONCURRENTLY users_email_idx ON users (email)"


def test_explicit_begin_is_named_with_its_line() -> None:
    result = check_sql(f"SELECT 1;\nBEGIN;\n{CREATE};\nCOMMIT;")
    [finding] = [f for f in result.findings if f.rule == RULE]
    assert "the transaction opened by BEGIN on line 2" in finding.message
    assert "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in finding.message


def test_runner_wrapping_the_file_is_named() -> None:
    [finding] = check_sql(f"{CREATE};", assume_in_transaction=True).findings
    assert "the runner wraps around the whole file" in finding.message
    assert finding.safe_alternative.splitlines()[-1] == f"{CREATE};"


def test_alembic_revision_is_told_to_use_autocommit_block() -> None:
    location = Location(12, 5, 12, 60)
    unit = Unit(
        path="versions/0003_email_idx.py",
        kind=UnitKind.ALEMBIC,
        phase=Phase.EXPAND,
        statements=[Statement(CREATE, "versions/0003_email_idx.py", location, 0, 1)],
    )
    result = check_units([unit], CheckSettings(rules=(CATALOG[RULE],)))
    [finding] = result.findings
    assert "the transaction Alembic wraps around the revision" in finding.message
    assert "op.get_context().autocommit_block()" in finding.safe_alternative
    assert finding.location == location
