"""Natural order of names: digit runs compare as numbers (`2_x.sql` before `10_x.sql`), the
order most migration tools' file names are meant to be read in."""

from __future__ import annotations

from collections.abc import Iterable

from bgmigrate.source.patterns import LazyPattern

__all__ = ["natural_key", "natural_name_key"]

_DIGITS = LazyPattern(r"(\d+)")


def natural_key(parts: Iterable[str]) -> tuple[tuple[tuple[str | int, ...], ...], str]:
    """A sort key for path components where digit runs compare as numbers, case-insensitively:
    `2_x.sql` < `10_x.sql`. Ties (`01_x` and `1_x`) fall back to the exact text."""
    parts = tuple(parts)
    return tuple(_natural_part(part) for part in parts), "/".join(parts)


def natural_name_key(name: str) -> tuple[tuple[tuple[str | int, ...], ...], str]:
    """`natural_key([name])`, for sorting the names of one directory (thousands of files)."""
    return (_natural_part(name),), name


def _natural_part(part: str) -> tuple[str | int, ...]:
    # split() with a group alternates text and digits, so equal positions hold equal types.
    # Casefolding maps no character to a digit nor a digit to anything else: folding the
    # whole name first folds each text piece alike, with the digit runs where they were.
    pieces: list[str | int] = _DIGITS.split(part.casefold())
    pieces[1::2] = map(int, pieces[1::2])
    return tuple(pieces)
