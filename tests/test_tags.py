"""Parsing `bgmigrate:` tags from comment bodies and collecting a unit's tags."""

from __future__ import annotations

import pytest

from bgmigrate.source.tags import (
    INVALID_TAG,
    IgnoreTag,
    InvalidTag,
    PhaseTag,
    TagComment,
    collect_tags,
    parse_tag,
)
from bgmigrate.source.unit import Location, Phase


@pytest.mark.parametrize("body", [" just a note", "", " bgmigrate is great", "bgmigrate"])
def test_comments_without_a_tag_are_not_tags(body: str) -> None:
    assert parse_tag(body) is None


@pytest.mark.parametrize(
    ("body", "phase"),
    [
        (" bgmigrate: phase=contract", Phase.CONTRACT),
        ("bgmigrate:phase=backfill", Phase.BACKFILL),
        (" BGMIGRATE: phase = Expand ", Phase.EXPAND),
        (" bgmigrate: phase=contract -- drops the old column", Phase.CONTRACT),
    ],
)
def test_phase_tag(body: str, phase: Phase) -> None:
    assert parse_tag(body) == PhaseTag(phase)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            " bgmigrate: ignore rename-column -- app reads both names since v12",
            IgnoreTag(("rename-column",), "app reads both names since v12", whole_file=False),
        ),
        (
            " bgmigrate: ignore rename-column,drop-column--why",
            IgnoreTag(("rename-column", "drop-column"), "why", whole_file=False),
        ),
        (
            " bgmigrate: ignore rename-column, locking",
            IgnoreTag(("rename-column", "locking"), "", whole_file=False),
        ),
        (
            " bgmigrate: ignore-file drop-table -- legacy\n   table, unused  ",
            IgnoreTag(("drop-table",), "legacy table, unused", whole_file=True),
        ),
    ],
)
def test_ignore_tags(body: str, expected: IgnoreTag) -> None:
    assert parse_tag(body) == expected


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (" bgmigrate: phase=contrakt", '"contrakt"'),
        (" bgmigrate: phase", "no value"),
        (" bgmigrate: ignore", "names no rule"),
        (" bgmigrate: ignore -- because", "names no rule"),
        (" bgmigrate: ignore-file", "names no rule"),
        (" bgmigrate: ignore rename-column: reason", '"rename-column:"'),
        (" bgmigrate: ignroe rename-column", '"ignroe"'),
        (" bgmigrate:", 'Unknown bgmigrate tag ""'),
    ],
)
def test_malformed_tags_say_what_to_write(body: str, says: str) -> None:
    tag = parse_tag(body)
    assert isinstance(tag, InvalidTag)
    assert says in tag.message


def at(line: int) -> Location:
    return Location(line, 1, line, 30)


def test_collect_tags_builds_suppressions_on_their_lines() -> None:
    tags = collect_tags(
        [
            TagComment(" bgmigrate: phase=contract", at(1), leading=True),
            TagComment(" bgmigrate: ignore drop-column -- x", at(4), leading=False),
            TagComment(" bgmigrate: ignore-file drop-table -- y", at(9), leading=False),
        ]
    )
    assert tags.phase is Phase.CONTRACT
    assert [(s.rules, s.reason, s.line, s.location) for s in tags.suppressions] == [
        (("drop-column",), "x", 4, at(4)),
        (("drop-table",), "y", None, at(9)),
    ]
    assert tags.problems == []


def test_the_default_phase_is_expand() -> None:
    assert collect_tags([]).phase is Phase.EXPAND


def test_conflicting_phase_tags_keep_the_first_and_report_the_second() -> None:
    tags = collect_tags(
        [
            TagComment(" bgmigrate: phase=contract", at(1), leading=True),
            TagComment(" bgmigrate: phase=contract", at(2), leading=True),
            TagComment(" bgmigrate: phase=expand", at(3), leading=True),
        ]
    )
    assert tags.phase is Phase.CONTRACT
    (problem,) = tags.problems
    assert (problem.rule, problem.location) == (INVALID_TAG, at(3))
    assert "phase=expand" in problem.message and "phase=contract" in problem.message


def test_phase_tag_after_the_first_statement_has_no_effect() -> None:
    tags = collect_tags([TagComment(" bgmigrate: phase=contract", at(5), leading=False)])
    assert tags.phase is Phase.EXPAND
    assert [p.rule for p in tags.problems] == [INVALID_TAG]


def test_invalid_tags_become_problems_at_their_comment() -> None:
    tags = collect_tags([TagComment(" bgmigrate: ignore", at(2), leading=False)])
    assert tags.suppressions == []
    assert [(p.rule, p.location) for p in tags.problems] == [(INVALID_TAG, at(2))]
