"""`bgmigrate:` tags in migration comments: a unit's phase and its ignore tags.

The grammar (cli.md, "Tags in migration files"), after the comment marker:

    bgmigrate: phase=contract
    bgmigrate: ignore rename-column,drop-column -- reason
    bgmigrate: ignore-file drop-column -- reason

Parsing works on a comment's body, so SQL (`--`, `/* */`) and Python (`#`) sources share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bgmigrate.source.patterns import LazyPattern
from bgmigrate.source.unit import Location, Phase, SourceProblem, Suppression
from bgmigrate.values import Value, field, frozen_value, value

__all__ = [
    "INVALID_TAG",
    "IgnoreTag",
    "InvalidTag",
    "PhaseTag",
    "TagComment",
    "UnitTags",
    "collect_tags",
    "parse_tag",
]

INVALID_TAG = "invalid-tag"
"""The rule name of the `SourceProblem` a malformed tag becomes."""

_TAG = re.compile(r"\s*bgmigrate:(?P<directive>.*)", re.IGNORECASE | re.DOTALL)
# Lenient about the separator (`phase = contract`, `phase: contract`); text after the value is
# a note for humans.
_PHASE = re.compile(r"phase\b[\s=:]*(?P<value>\S*)", re.IGNORECASE)
_IGNORE = LazyPattern(r"(?P<kind>ignore-file|ignore)(?:\s+(?P<rest>.*))?\Z", re.DOTALL)
_RULE_NAME = LazyPattern(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_PHASES = ", ".join(f"phase={p.value}" for p in Phase)
_USAGE = "bgmigrate: ignore RULE[,RULE…] -- reason"


@frozen_value
class PhaseTag(Value):
    """`-- bgmigrate: phase=contract`: the deploy phase a unit belongs to."""

    phase: Phase


@frozen_value
class IgnoreTag(Value):
    """`-- bgmigrate: ignore RULE[,RULE…] -- reason` (or `ignore-file`): suppressions, each
    with its reason."""

    rules: tuple[str, ...]
    reason: str
    whole_file: bool


@frozen_value
class InvalidTag(Value):
    """A `bgmigrate:` comment that cannot be read; `message` says how to write it."""

    message: str


def parse_tag(body: str) -> PhaseTag | IgnoreTag | InvalidTag | None:
    """The tag in a comment's body (the text without `--`, `#` or `/* */`), or None when the
    comment is not a `bgmigrate:` tag."""
    tag = _TAG.match(body)
    if tag is None:
        return None
    directive = tag["directive"].strip()
    phase = _PHASE.match(directive)
    if phase is not None:
        return _parse_phase(phase["value"])
    ignore = _IGNORE.match(directive)
    if ignore is None:
        word = directive.split(maxsplit=1)[0] if directive else ""
        return InvalidTag(
            f'Unknown bgmigrate tag "{word}": write "bgmigrate: phase=…" ({_PHASES}), '
            f'"{_USAGE}" or "bgmigrate: ignore-file RULE -- reason".'
        )
    return _parse_ignore(ignore["kind"], ignore["rest"] or "")


def _parse_phase(value: str) -> PhaseTag | InvalidTag:
    try:
        return PhaseTag(Phase(value.lower()))
    except ValueError:
        shown = f'"{value}"' if value else "no value"
        return InvalidTag(
            f"The phase tag has {shown}, so it sets no phase: write one of {_PHASES}."
        )


def _parse_ignore(kind: str, rest: str) -> IgnoreTag | InvalidTag:
    names, _, reason = rest.partition("--")
    rules = tuple(name for name in re.split(r"[\s,]+", names) if name)
    if not rules:
        return InvalidTag(
            f'The {kind} tag names no rule, so it suppresses nothing: write "{_USAGE}".'
        )
    malformed = [name for name in rules if not _RULE_NAME.match(name)]
    if malformed:
        return InvalidTag(
            f'The {kind} tag has "{malformed[0]}" where a rule name or category belongs: '
            f'write "{_USAGE}" (rule names like rename-column, separated by commas).'
        )
    return IgnoreTag(rules, " ".join(reason.split()), whole_file=kind == "ignore-file")


@frozen_value
class TagComment(Value):
    """One comment of a unit, as the tag collector needs it."""

    body: str
    """The comment's text without its markers."""
    location: Location
    leading: bool
    """Whether the comment stands before the unit's first statement."""


@value
class UnitTags(Value):
    """A unit's tags: its phase, its ignore tags, and the malformed tags as problems."""

    phase: Phase = Phase.EXPAND
    suppressions: list[Suppression] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def collect_tags(comments: Iterable[TagComment]) -> UnitTags:
    """Read the tags of a unit's comments, in file order."""
    tags = UnitTags()
    phase_tag: PhaseTag | None = None
    for comment in comments:
        tag = parse_tag(comment.body)
        if tag is None:
            continue
        if isinstance(tag, IgnoreTag):
            line = None if tag.whole_file else comment.location.end_line
            tags.suppressions.append(Suppression(tag.rules, tag.reason, line, comment.location))
            continue
        if isinstance(tag, PhaseTag):
            tag = _placement_problem(tag, phase_tag, comment.leading) or tag
        if isinstance(tag, InvalidTag):
            tags.problems.append(SourceProblem(INVALID_TAG, tag.message, comment.location))
            continue
        phase_tag = tag
        tags.phase = tag.phase
    return tags


def _placement_problem(tag: PhaseTag, earlier: PhaseTag | None, leading: bool) -> InvalidTag | None:
    if not leading:
        return InvalidTag(
            f"This phase tag stands after the first statement and has no effect: move "
            f'"bgmigrate: phase={tag.phase.value}" into the comments at the top of the file.'
        )
    if earlier is not None and earlier.phase is not tag.phase:
        return InvalidTag(
            f"This tag says phase={tag.phase.value} but an earlier one says "
            f"phase={earlier.phase.value}; keep the one that is true and delete the other."
        )
    return None
