"""Every Markdown file renders its code blocks as code: no fence opened by a stray `:`, none
left open to swallow the rest of the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
LANGUAGE = re.compile(r"[A-Za-z0-9_+-]*")


def fence_problems(text: str) -> list[str]:
    """Where the page's fences go wrong, as `line N: what`."""
    lines = text.splitlines()
    problems = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        if not LANGUAGE.fullmatch(token.info.strip()):
            problems.append(f"line {start + 1}: fence opened with info {token.info!r}")
        closing = lines[end - 1].strip() if end - 1 > start else ""
        if not closing.startswith(token.markup) or closing.strip("`~"):
            problems.append(f"line {start + 1}: fence never closed")
        inner = [n for n in range(start + 1, end - 1) if lines[n].lstrip().startswith("```")]
        if inner:
            # "```:" closes nothing: the block runs on through the next one.
            problems.append(f"line {start + 1}: fence runs on over line {inner[0] + 1}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_fence_opens_with_a_language_and_closes(document: Path) -> None:
    assert fence_problems(document.read_text(encoding="utf-8")) == []


def test_the_check_catches_the_fences_docs_rules_md_had() -> None:
    # The rule reference once ended an earlier migration's block with "```:" (37 times).
    broken = "When after:\n\n```sql\nCREATE TABLE t ();\n```:\n\n```sql\nDROP TABLE t;\n```\n"
    assert fence_problems(broken) == ["line 3: fence runs on over line 5"]
    assert fence_problems("```sql\nSELECT 1;\n") == ["line 1: fence never closed"]
