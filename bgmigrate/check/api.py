"""Checking SQL text directly: the public Python entry point and the rule examples' runner."""

from __future__ import annotations

from collections.abc import Sequence

from bgmigrate.check.engine import CheckSettings, check_units, select_rules
from bgmigrate.check.result import CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.unit import Phase, Unit

__all__ = ["check_sql"]


def check_sql(
    sql: str,
    *,
    path: str = "migration.sql",
    before: str = "",
    pg_version: int = 16,
    phase: Phase | None = None,
    assume_in_transaction: bool = False,
    rules: Sequence[Rule] | None = None,
) -> CheckResult:
    """Check one SQL migration. `before` is an earlier migration whose objects already exist
    in production; only `sql`'s findings are reported. `phase` overrides the file's tag."""
    from bgmigrate.rules import CATALOG
    from bgmigrate.source.sql import read_sql_unit

    units: list[Unit] = []
    if before:
        units.append(read_sql_unit("before.sql", before))
    unit = read_sql_unit(path, sql, assume_in_transaction=assume_in_transaction)
    if phase is not None:
        unit.phase = phase
    units.append(unit)
    active = tuple(rules) if rules is not None else select_rules(CATALOG)
    settings = CheckSettings(pg_version=pg_version, rules=active, report=lambda u: u is unit)
    return check_units(units, settings)
