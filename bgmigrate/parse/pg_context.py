"""What every PostgreSQL node mapper needs: the statement, its text, and where it stands."""

from __future__ import annotations

from bgmigrate.parse.statement_text import StatementText
from bgmigrate.source.unit import Location, Statement

__all__ = ["Context"]


class Context:
    """One parsed statement being mapped to operations.

    `whole` is the location of the statement as a whole: the place of every operation that
    has no narrower span of its own.
    """

    __slots__ = ("text", "whole")

    def __init__(self, text: StatementText, whole: Location) -> None:
        self.text = text
        self.whole = whole

    @property
    def statement(self) -> Statement:
        return self.text.statement

    def token_at(self, byte_location: int) -> int:
        """The index of the token at a parse tree location (a byte offset)."""
        return self.text.token_at(self.text.char_offset(byte_location))
