import json
from dataclasses import replace
from importlib.resources import files

import jsonschema
import pytest
from report_cases import RENAME_PATH, RENAME_STATEMENT, catalog, sample_result

from bgmigrate import __version__
from bgmigrate.check.report.json_report import (
    _unit,
    _unit_line,
    document,
    finding_entry,
    finding_line,
    render,
)
from bgmigrate.check.result import CheckResult


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema_file = files("bgmigrate.check.report").joinpath("check-result.schema.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def rendered(result: CheckResult) -> dict:
    return json.loads(render(result, catalog(), color=False))


def test_output_validates_against_the_schema(validator):
    validator.validate(rendered(sample_result()))


def test_empty_run_validates_with_zero_counts(validator):
    document = rendered(CheckResult(units=[]))
    validator.validate(document)
    assert document["summary"] == {"error": 0, "warning": 0, "info": 0, "suppressed": 0, "units": 0}


def test_schema_rejects_keys_outside_the_contract(validator):
    document = rendered(sample_result())
    document["findings"][0]["fix"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


def test_schema_rejects_a_reason_on_an_unsuppressed_finding(validator):
    document = rendered(sample_result())
    document["findings"][0]["suppression_reason"] = "because"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


def test_summary_counts_unsuppressed_findings_by_severity():
    assert rendered(sample_result())["summary"] == {
        "error": 2,
        "warning": 1,
        "info": 1,
        "suppressed": 1,
        "units": 3,
    }


def test_header_names_tool_version_and_target_postgres():
    document = rendered(sample_result())
    assert document["version"] == 1
    assert document["tool"] == {"name": "bgmigrate", "version": __version__}
    assert document["settings"] == {"pg_version": 15}


def test_units_list_path_kind_phase_and_statement_count():
    assert rendered(sample_result())["units"] == [
        {"path": "migrations/0002_rename.sql", "kind": "sql", "phase": "expand", "statements": 2},
        {"path": "migrations/0003_orders.sql", "kind": "sql", "phase": "expand", "statements": 3},
        {
            "path": "alembic/versions/3f2a_add_orders.py",
            "kind": "alembic",
            "phase": "contract",
            "statements": 1,
        },
    ]


def test_finding_has_exactly_the_contract_fields():
    assert rendered(sample_result())["findings"][0] == {
        "rule": "rename-column",
        "category": "compat",
        "severity": "error",
        "path": RENAME_PATH,
        "line": 2,
        "column": 1,
        "end_line": 2,
        "end_column": len(RENAME_STATEMENT),
        "statement": RENAME_STATEMENT,
        "message": "Renaming users.email breaks the version still running (blue): "
        "its queries name email.",
        "safe_alternative": "bgmigrate plan rename users.email email_address",
        "suppressed": False,
    }


def test_suppressed_finding_is_listed_with_its_reason():
    suppressed = [f for f in rendered(sample_result())["findings"] if f["suppressed"]]
    assert [(f["rule"], f["suppression_reason"]) for f in suppressed] == [
        ("drop-column", "nobody reads legacy since v2")
    ]


def test_suppression_without_reason_gives_an_empty_reason(validator):
    result = sample_result()
    result.findings[1] = replace(result.findings[1], suppression_reason=None)
    document = rendered(result)
    validator.validate(document)
    assert document["findings"][1]["suppression_reason"] == ""


def test_non_ascii_message_survives_in_ascii_output():
    text = render(sample_result(), catalog(), color=False)
    assert text.isascii()
    assert text.endswith("}\n")
    messages = [f["message"] for f in json.loads(text)["findings"]]
    assert any("— and the old app’s INSERTs" in message for message in messages)


def test_multi_line_statement_keeps_its_line_breaks():
    finding = rendered(sample_result())["findings"][2]
    assert finding["statement"].count("\n") == 2
    assert (finding["line"], finding["end_line"]) == (1, 3)


def test_output_is_the_document_with_one_finding_per_line() -> None:
    result = sample_result()
    output = render(result, catalog(), color=False)
    assert json.loads(output) == document(result)
    finding_lines = [line for line in output.splitlines() if line.startswith('    {"rule"')]
    assert len(finding_lines) == len(result.findings)


@pytest.mark.parametrize(
    "text",
    ["plain", 'quotes " and \\ backslash', "tab\tnew\nline\x00\x1f", "é — ’ 😀 \ud800"],
)
@pytest.mark.parametrize("suppressed, reason", [(False, None), (True, None), (True, "why")])
def test_a_finding_line_is_json_dumps_of_its_entry(text: str, suppressed: bool, reason) -> None:
    for finding in sample_result().findings:
        edited = replace(
            finding,
            path=f"dir/{text}.sql",
            statement=text,
            message=text,
            safe_alternative=text,
            suppressed=suppressed,
            suppression_reason=reason and f"{reason} {text}",
        )
        assert finding_line(edited) == json.dumps(finding_entry(edited))


@pytest.mark.parametrize("path", ["db/1.sql", 'quo"te\\back.sql', "é — 😀 \ud800.sql"])
def test_a_unit_line_is_json_dumps_of_its_entry(path: str) -> None:
    for unit in sample_result().units:
        edited = replace(unit, path=path)
        assert _unit_line(edited) == json.dumps(_unit(edited))
