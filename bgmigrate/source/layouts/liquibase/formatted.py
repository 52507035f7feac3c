"""Liquibase formatted SQL: `--liquibase formatted sql`, then `--changeset author:id attrs…`.

Each changeset runs from its line to the next one, in its own transaction unless it says
`runInTransaction:false`; `dbms:` keeps it off other engines. `--rollback` lines and
`/* liquibase rollback … */` blocks, `--precondition-…` lines and `--ignoreLines` parts never
run forward. A changeset with `endDelimiter` `/` or `GO` is also split where that stands on a
line of its own (see `attributes.split_at`).
"""

from __future__ import annotations

import re

from bgmigrate.source.layouts.base import Forward, SkipReason, Transaction
from bgmigrate.source.layouts.liquibase.attributes import (
    counts_all_rows,
    left_out_by_attributes,
    split_at,
    transaction_mode,
)

__all__ = ["formatted_forward"]

_CHANGESET = re.compile(r"(?im)^[ \t]*--[ \t]*changeset[ \t]+(?:\"[^\"\n]*\"|[^\s:]+):[^\r\n]*")
_ATTRIBUTE = re.compile(r"(\w+):(\"[^\"\n]*\"|\S*)")
_LEFT_OUT = (
    (re.compile(r"(?im)^[ \t]*--[ \t]*rollback\b[^\r\n]*"), SkipReason.ROLLBACK, "--rollback"),
    (
        re.compile(r"(?is)/\*[ \t]*liquibase[ \t]+rollback\b.*?\*/"),
        SkipReason.ROLLBACK,
        "/* liquibase rollback */",
    ),
    (
        re.compile(r"(?im)^[ \t]*--[ \t]*precondition[\w-]*\b[^\r\n]*"),
        SkipReason.PRECONDITION,
        "--precondition",
    ),
    (
        re.compile(
            r"(?ims)^[ \t]*--[ \t]*ignoreLines:start\b.*?"
            r"(?:^[ \t]*--[ \t]*ignoreLines:end\b[^\r\n]*|\Z)"
        ),
        SkipReason.IGNORED,
        "--ignoreLines",
    ),
)
_MARKS_RAN = re.compile(
    r"(?im)^[ \t]*--[ \t]*preconditions\b[^\r\n]*\bonFail:(?:MARK_RAN|CONTINUE)\b"
)
_COUNT_CHECK = re.compile(
    r"(?im)^[ \t]*--[ \t]*precondition-sql-check\b[^\r\n]*?\bexpectedResult:0[ \t]+([^\r\n]*)"
)
_IGNORE_COUNT = re.compile(r"(?im)^[ \t]*--[ \t]*ignoreLines:(\d+)[^\r\n]*")


def formatted_forward(text: str) -> Forward:
    """The changesets of a formatted SQL changelog, as Liquibase runs them on PostgreSQL."""
    markers = list(_CHANGESET.finditer(text))
    left_out = _left_out(text)
    ranges: list[tuple[int, int]] = []
    changes: list[tuple[int, int, Transaction]] = []
    rendered: list[tuple[str, int, int]] = []
    skipped: list[tuple[SkipReason, str, int, int]] = []
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        start, end = marker.end(), following.start() if following else len(text)
        attributes = {name: value.strip('"') for name, value in _ATTRIBUTE.findall(marker.group())}
        left = left_out_by_attributes(attributes) or _empty_table_only(text, start, end)
        if left is not None:
            skipped.append((*left, marker.start(), end))
            continue
        mode = transaction_mode(
            attributes.get("runInTransaction"), attributes.get("splitStatements")
        )
        changes.append((start, end, mode))
        parts = _without(start, end, left_out)
        delimiter = attributes.get("endDelimiter", ";")
        if delimiter.lower() not in ("/", "go"):
            ranges.extend(parts)
        else:
            for part_start, part_end in parts:
                rendered.extend(
                    (sql, part_start + first, part_start + last)
                    for sql, first, last in split_at(text[part_start:part_end], delimiter)
                )
    whole_changesets = [(start, end) for _, _, start, end in skipped]
    skipped.extend(
        (reason, detail, start, end)
        for start, end, reason, detail in left_out
        if not any(first <= start < last for first, last in whole_changesets)
    )
    skipped.sort(key=lambda part: part[2])
    return Forward(
        tuple(ranges), Transaction.WRAPPED, tuple(skipped), tuple(changes), tuple(rendered)
    )


def _empty_table_only(text: str, start: int, end: int) -> tuple[SkipReason, str] | None:
    """A changeset whose preconditions (`--preconditions onFail:MARK_RAN` and
    `--precondition-sql-check expectedResult:0 select count(*) from t`) run it only while its
    table is empty."""
    marks_ran = _MARKS_RAN.search(text, start, end)
    check = _COUNT_CHECK.search(text, start, end)
    table = counts_all_rows(check.group(1)) if marks_ran and check else None
    if table is None:
        return None
    return SkipReason.PRECONDITION, f"--preconditions: runs only while {table} is empty"


def _left_out(text: str) -> list[tuple[int, int, SkipReason, str]]:
    """Every part Liquibase reads as something other than the changeset's SQL."""
    found = [
        (match.start(), match.end(), reason, detail)
        for pattern, reason, detail in _LEFT_OUT
        for match in pattern.finditer(text)
    ]
    for match in _IGNORE_COUNT.finditer(text):
        end = match.end()
        for _ in range(int(match.group(1))):
            following = text.find("\n", end + 1)
            end = len(text) if following < 0 else following
        found.append((match.start(), end, SkipReason.IGNORED, "--ignoreLines"))
    found.sort()
    return found


def _without(
    start: int, end: int, left_out: list[tuple[int, int, SkipReason, str]]
) -> list[tuple[int, int]]:
    """text[start:end] less the parts left out."""
    parts = []
    position = start
    for cut_start, cut_end, _, _ in left_out:
        if cut_end <= position or cut_start >= end:
            continue
        if cut_start > position:
            parts.append((position, cut_start))
        position = max(position, cut_end)
    if position < end:
        parts.append((position, end))
    return parts
