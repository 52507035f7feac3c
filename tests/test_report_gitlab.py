import json
from dataclasses import replace

from report_cases import catalog, sample_result, shifted

from bgmigrate.check.finding import Finding
from bgmigrate.check.report.gitlab import render
from bgmigrate.check.result import CheckResult


def issues(result: CheckResult) -> list[dict]:
    return json.loads(render(result, catalog(), color=False))


def fingerprints(*findings: Finding) -> list[str]:
    return [issue["fingerprint"] for issue in issues(CheckResult(units=[], findings=[*findings]))]


def test_lists_unsuppressed_findings_with_mapped_severity():
    assert [(i["check_name"], i["severity"]) for i in issues(sample_result())] == [
        ("rename-column", "critical"),
        ("add-not-null-column-without-default", "critical"),
        ("drop-index-non-concurrently", "major"),
        ("require-lock-timeout", "info"),
    ]


def test_issue_has_description_and_line_range():
    issue = issues(sample_result())[1]
    assert issue["description"] == (
        "Adding orders.total NOT NULL without a default fails on 100% of existing rows — "
        "and the old app’s INSERTs omit it.\n"
        "Safe alternative: bgmigrate plan add-column orders.total numeric --not-null"
    )
    assert issue["location"] == {
        "path": "migrations/0003_orders.sql",
        "lines": {"begin": 1, "end": 3},
    }
    assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}


def test_fingerprints_are_unique_sha256_digests():
    digests = [i["fingerprint"] for i in issues(sample_result())]
    assert len(set(digests)) == len(digests)
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in digests)


def test_fingerprints_survive_moving_the_code():
    before = [i["fingerprint"] for i in issues(sample_result())]
    after = [i["fingerprint"] for i in issues(shifted(sample_result(), 7))]
    assert after == before


def test_fingerprint_survives_reindenting_the_statement():
    finding = sample_result().findings[2]
    reindented = replace(finding, statement=finding.statement.replace("    ", "\t"))
    assert fingerprints(reindented) == fingerprints(finding)


def test_fingerprint_changes_with_the_statement():
    finding = sample_result().findings[0]
    edited = replace(finding, statement="ALTER TABLE users RENAME COLUMN name TO full_name")
    assert fingerprints(edited) != fingerprints(finding)


def test_identical_statements_in_one_file_get_distinct_fingerprints():
    finding = sample_result().findings[0]
    again_below = shifted(CheckResult(units=[], findings=[finding]), 3).findings[0]
    first, second = fingerprints(finding, again_below)
    assert first != second


def test_empty_report_is_an_empty_list():
    assert render(CheckResult(units=[]), catalog(), color=False) == "[]\n"
