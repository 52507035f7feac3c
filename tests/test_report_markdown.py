"""`--format markdown`: a pull-request comment that GitHub accepts, however large the change."""

from __future__ import annotations

from dataclasses import replace

from report_cases import catalog, sample_result

from bgmigrate import __version__
from bgmigrate.check.report.markdown import LIMIT, render
from bgmigrate.check.result import CheckResult


def test_findings_are_grouped_by_file_with_line_message_and_safe_alternative() -> None:
    text = render(sample_result(), catalog(), color=False)
    assert text.startswith("## bgmigrate: 2 errors, 1 warning, 1 info in 3 units (1 suppressed)\n")
    rename = text.index("### `migrations/0002_rename.sql`")
    orders = text.index("### `migrations/0003_orders.sql`")
    assert rename < text.index("`rename-column`, line 2: ") < orders
    assert "`add-not-null-column-without-default`, line 1: Adding orders.total" in text[orders:]
    assert "**Safe alternative:** bgmigrate plan add-column orders.total numeric --not-null" in text
    assert "drop-column" not in text  # suppressed: counted in the heading, not listed
    assert text.endswith(f"<sub>bgmigrate {__version__}, PostgreSQL 15</sub>\n")


def test_angle_brackets_are_escaped_in_prose_but_not_in_code() -> None:
    result = sample_result()
    finding = replace(result.findings[0], message="Set `x = <value>` for <stdin>.")
    text = render(CheckResult(result.units, [finding]), catalog(), color=False)
    assert "Set `x = <value>` for &lt;stdin&gt;." in text


def _one_finding_per_file(count: int, folder: str, message: str) -> str:
    """The Markdown report of `count` files with one rename-column finding each."""
    result = sample_result()
    findings = [
        replace(result.findings[0], path=f"{folder}/{n:05d}_rename.sql", message=message)
        for n in range(count)
    ]
    return render(CheckResult(result.units, findings), catalog(), color=False)


def test_a_large_change_stays_under_githubs_comment_limit_and_counts_the_rest() -> None:
    text = _one_finding_per_file(400, "migrations", "x" * 900)
    assert len(text) <= LIMIT
    shown = text.count("`rename-column`, line 2:")
    assert 40 < shown < 400
    assert f"**{400 - shown} more findings in {400 - shown} more files not shown**" in text
    assert f"- `migrations/{shown:05d}_rename.sql`: 1 finding" in text
    assert text.endswith(f"<sub>bgmigrate {__version__}, PostgreSQL 16</sub>\n")


def test_thousands_of_files_left_out_are_summarised_within_the_limit() -> None:
    text = _one_finding_per_file(5000, "migrations" + "/deep" * 20, "x" * 500)
    assert len(text) <= LIMIT
    assert "more files\n" in text  # "- … and N more files"
