"""rename-table beyond its examples: the statement-specific advice passes the check itself."""

from __future__ import annotations

from bgmigrate.check.api import check_sql


def _advice_sql(safe_alternative: str) -> str:
    """The SQL lines of the advice (the first line is the `bgmigrate plan` command)."""
    return "\n".join(line for line in safe_alternative.splitlines()[1:])


def test_rename_with_compatibility_view_as_advised_passes_check() -> None:
    before = "CREATE TABLE users (id bigint PRIMARY KEY, email text);"
    [finding] = check_sql(
        "SET lock_timeout = '2s';\nALTER TABLE users RENAME TO customers;", before=before
    ).findings
    assert finding.rule == "rename-table"
    assert finding.safe_alternative.splitlines()[0] == "bgmigrate plan rename users customers"

    advised = check_sql(_advice_sql(finding.safe_alternative), before=before)
    assert [f.rule for f in advised.findings if not f.suppressed] == []
    assert [f.rule for f in advised.findings if f.suppressed] == ["rename-table"]


def test_schema_qualified_rename_keeps_the_schema_in_the_view() -> None:
    [finding] = check_sql(
        "SET lock_timeout = '2s';\nALTER TABLE billing.invoices RENAME TO bills;"
    ).findings
    assert "CREATE VIEW billing.invoices AS SELECT * FROM billing.bills;" in (
        finding.safe_alternative
    )
