"""The one error the sources raise: a path the tool cannot read as a migration."""

from __future__ import annotations

__all__ = ["SourceError"]


class SourceError(Exception):
    """A migration path that does not exist, cannot be read, or is not a migration.

    The message names the path and says what to do; the CLI prints it as its one line on
    stderr and exits 2.
    """
