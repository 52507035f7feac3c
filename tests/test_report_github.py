from dataclasses import replace

from report_cases import catalog, sample_result

from bgmigrate.check.report.github import render
from bgmigrate.check.result import CheckResult


def test_one_workflow_command_per_unsuppressed_finding():
    assert render(sample_result(), catalog(), color=False).splitlines() == [
        "::error file=migrations/0002_rename.sql,line=2,col=1,endLine=2,endColumn=54,"
        "title=rename-column::Renaming users.email breaks the version still running (blue): "
        "its queries name email.%0ASafe alternative: "
        "bgmigrate plan rename users.email email_address",
        "::error file=migrations/0003_orders.sql,line=1,col=1,endLine=3,endColumn=24,"
        "title=add-not-null-column-without-default::Adding orders.total NOT NULL without a "
        "default fails on 100%25 of existing rows — and the old app’s INSERTs omit it."
        "%0ASafe alternative: bgmigrate plan add-column orders.total numeric --not-null",
        "::warning file=migrations/0003_orders.sql,line=4,col=26,endLine=4,endColumn=50,"
        "title=drop-index-non-concurrently::DROP INDEX orders_old_idx locks orders against "
        "reads and writes.%0ASafe alternative: DROP INDEX CONCURRENTLY orders_old_idx;",
        "::notice file=migrations/0003_orders.sql,line=1,col=1,endLine=3,endColumn=24,"
        "title=require-lock-timeout::ALTER TABLE orders waits for its lock without a lock_timeout.",
    ]


def test_message_escapes_percent_and_line_breaks():
    result = sample_result()
    result.findings[:] = [replace(result.findings[3], message="50% done\r\nthen: more, later")]
    line = render(result, catalog(), color=False)
    assert line.endswith(
        "::50%25 done%0D%0Athen: more, later%0ASafe alternative: "
        "DROP INDEX CONCURRENTLY orders_old_idx;\n"
    )


def test_properties_escape_colon_and_comma():
    result = sample_result()
    result.findings[:] = [replace(result.findings[3], path="db/a,b:c%.sql")]
    line = render(result, catalog(), color=False)
    assert line.startswith("::warning file=db/a%2Cb%3Ac%25.sql,line=4,")


def test_absolute_path_under_the_working_directory_becomes_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = sample_result()
    result.findings[:] = [replace(result.findings[0], path=str(tmp_path / "db" / "0001.sql"))]
    assert render(result, catalog(), color=False).startswith("::error file=db/0001.sql,line=2,")


def test_nothing_is_written_without_unsuppressed_findings():
    result = sample_result()
    only_suppressed = CheckResult(units=result.units, findings=[result.findings[1]])
    assert render(only_suppressed, catalog(), color=False) == ""
