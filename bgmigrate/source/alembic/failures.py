"""What went wrong in a revision's own code, told in one line for a finding's message."""

from __future__ import annotations

__all__ = ["describe"]


def describe(error: BaseException) -> str:
    """An exception in one line: its type and the first line of its message."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
