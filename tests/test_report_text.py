from dataclasses import replace

from fresh_interpreter import imported_packages
from report_cases import MULTI_LINE_MESSAGE, ORDERS_PATH, RENAME_PATH, catalog, sample_result

from bgmigrate.check.finding import Severity
from bgmigrate.check.report.text import MAX_SOURCE_LINES, WIDTH, render
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.source.unit import Location, Phase, UnitKind


def plain(result: CheckResult) -> str:
    return render(result, catalog(), color=False)


def block(output: str, header: str) -> list[str]:
    """The lines of the finding whose header starts with `header`, up to the blank line."""
    lines = output.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    end = lines.index("", start)
    return lines[start:end]


def test_finding_shows_location_severity_rule_message_source_why_and_advice():
    assert block(plain(sample_result()), f"{RENAME_PATH}:2:1") == [
        f"{RENAME_PATH}:2:1  error  rename-column",
        "  Renaming users.email breaks the version still running (blue): its queries name email.",
        "  2 | ALTER TABLE users RENAME COLUMN email TO email_address;",
        "    | " + "^" * 54,
        "  why: A rename breaks the old app.",
        "  safe alternative: bgmigrate plan rename users.email email_address",
    ]


def test_multi_line_statement_shows_each_of_its_lines():
    lines = block(plain(sample_result()), f"{ORDERS_PATH}:1:1  error")
    assert lines[-5:-2] == [
        "  1 | ALTER TABLE orders",
        "  2 |     ADD COLUMN total numeric NOT NULL,",
        "  3 |     ADD COLUMN note text;",
    ]
    # A long message wraps inside the indentation, with its non-ASCII text intact.
    assert " ".join(line.strip() for line in lines[1:3]) == MULTI_LINE_MESSAGE


def test_span_within_a_line_is_underlined_at_its_columns():
    lines = block(plain(sample_result()), f"{ORDERS_PATH}:4:26")
    assert lines[2:4] == [
        "  4 | SET lock_timeout = '2s'; DROP INDEX orders_old_idx;",
        "    | " + " " * 25 + "^" * len("DROP INDEX orders_old_idx"),
    ]


def test_carets_count_terminal_cells_of_wide_characters():
    text = "SELECT '表表'; DROP INDEX i;\n"
    unit = CheckedUnit("w.sql", UnitKind.SQL, Phase.EXPAND, statements=2, text=text)
    finding = replace(
        sample_result().findings[3],
        path="w.sql",
        location=Location(1, 14, 1, 25),
        statement="DROP INDEX i",
    )
    lines = block(plain(CheckResult(units=[unit], findings=[finding])), "w.sql:1:14")
    assert lines[3] == "    | " + " " * 15 + "^" * 12


def test_rule_missing_from_the_catalog_shows_no_why():
    lines = block(plain(sample_result()), f"{ORDERS_PATH}:1:1  info")
    assert lines[0] == f"{ORDERS_PATH}:1:1  info  require-lock-timeout"
    assert not any(line.lstrip().startswith(("why:", "safe alternative:")) for line in lines)


def test_suppressed_findings_are_only_counted():
    output = plain(sample_result())
    assert "drop-column" not in output
    assert output.endswith("2 errors, 1 warning, 1 info in 3 units (1 suppressed)\n")


def test_summary_without_problems_names_the_unit_count():
    result = sample_result()
    clean = CheckResult(units=result.units[:1], findings=[result.findings[1]])
    assert plain(clean) == "No problems in 1 unit (1 suppressed)\n"
    assert plain(CheckResult(units=result.units)) == "No problems in 3 units\n"


def test_summary_counts_in_singular():
    result = sample_result()
    one_warning = CheckResult(units=result.units, findings=[result.findings[3]])
    assert plain(one_warning).endswith("\n1 warning in 3 units\n")


def test_long_statement_shows_its_start_and_end_only():
    statement = "\n".join(f"  UPDATE t SET c = {n};" for n in range(1, 21))
    unit = CheckedUnit("long.sql", UnitKind.SQL, Phase.EXPAND, statements=20, text=statement + "\n")
    finding = replace(
        sample_result().findings[3],
        path="long.sql",
        location=Location(1, 3, 20, 23),
        statement=statement.strip(),
        severity=Severity.WARNING,
    )
    lines = block(plain(CheckResult(units=[unit], findings=[finding])), "long.sql:1:3")
    source = [line for line in lines if " | " in line]
    assert len(source) == MAX_SOURCE_LINES
    assert source[0] == "   1 |   UPDATE t SET c = 1;"
    assert source[-2] == "     | ... 13 more lines"
    assert source[-1] == "  20 |   UPDATE t SET c = 20;"


def test_statement_stands_in_when_the_unit_text_is_missing():
    result = sample_result()
    finding = replace(result.findings[0], path="stdin.sql")
    lines = block(plain(CheckResult(units=[], findings=[finding])), "stdin.sql:2:1")
    assert lines[2] == "  2 | ALTER TABLE users RENAME COLUMN email TO email_address"


def test_plain_output_has_no_escape_codes_and_color_output_has():
    assert "\x1b[" not in plain(sample_result())
    colored = render(sample_result(), catalog(), color=True)
    assert "\x1b[1;31merror\x1b[0m" in colored
    assert "ALTER TABLE users RENAME COLUMN email TO email_address" in colored


def test_output_does_not_depend_on_the_terminal_environment(monkeypatch):
    expected = {color: render(sample_result(), catalog(), color=color) for color in (False, True)}
    for name, value in {
        "NO_COLOR": "1",
        "FORCE_COLOR": "1",
        "COLUMNS": "40",
        "TERM": "dumb",
    }.items():
        monkeypatch.setenv(name, value)
    for color in (False, True):
        assert render(sample_result(), catalog(), color=color) == expected[color]


def test_no_format_imports_rich():
    # The text format is what the pre-commit hook prints: it is laid out without rich.
    code = (
        "from bgmigrate.check.report import FORMATS\n"
        "from bgmigrate.check.result import CheckResult\n"
        "for name in ('text', 'json', 'sarif', 'github', 'gitlab'):\n"
        "    FORMATS[name](CheckResult(units=[]), {}, color=True)"
    )
    _, packages = imported_packages(code)
    assert not packages & {"rich", "pygments"}
    assert "bgmigrate" in packages


def test_a_source_line_wider_than_the_report_is_cut_not_wrapped():
    statement = (
        "CREATE INDEX ix ON orders USING btree (" + ", ".join(f"c{n}" for n in range(40)) + ")"
    )
    unit = CheckedUnit("wide.sql", UnitKind.SQL, Phase.EXPAND, statements=1, text=statement + ";\n")
    finding = replace(
        sample_result().findings[3],
        path="wide.sql",
        location=Location(1, 1, 1, len(statement)),
        statement=statement,
    )
    lines = block(plain(CheckResult(units=[unit], findings=[finding])), "wide.sql:1:1")
    source, carets = lines[2], lines[3]
    assert source.startswith("  1 | CREATE INDEX ix ON orders")
    assert source.endswith("…") and len(source) == WIDTH
    assert carets == "    | " + "^" * (WIDTH - 7) + "…"


def test_header_stays_on_one_line_for_long_paths():
    long_path = "services/" + "very_long_directory_name/" * 4 + "0003_index.sql"
    result = sample_result()
    finding = replace(result.findings[0], path=long_path)
    output = render(CheckResult(units=[], findings=[finding]), catalog(), color=False)
    header = next(line for line in output.splitlines() if line.startswith(long_path))
    assert header.endswith(f"error  {finding.rule}")
