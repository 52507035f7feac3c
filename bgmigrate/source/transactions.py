"""Which transaction block each statement of a unit runs in, from its leading keywords."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum
from itertools import pairwise

from bgmigrate.source.patterns import LazyPattern

__all__ = ["cannot_run_in_transaction", "transaction_blocks"]

_CONTROL_WORD = re.compile(r"(?i)(?:begin|start|commit|end|abort|rollback|prepare)\b")
_COMMENT = re.compile(r"--[^\n\r]*|/\*.*?\*/", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]+")
# Enough of a statement's start to read its control keywords
# (`ROLLBACK TRANSACTION AND NO CHAIN` is the longest).
_HEAD_CHARS = 200


# Statements PostgreSQL refuses inside a transaction block, by their leading words.
_OUTSIDE_TRANSACTION = LazyPattern(
    r"(?is)(?:create\s+(?:unique\s+)?index\s+concurrently|drop\s+index\s+concurrently"
    r"|reindex\b|vacuum\b|alter\s+system\b|(?:create|drop)\s+(?:database|tablespace)\b"
    r"|alter\s+table\b[^;]*\bdetach\s+partition\b[^;]*\bconcurrently\b)"
)


def cannot_run_in_transaction(sql: str) -> bool:
    """Whether PostgreSQL refuses the statement inside a transaction block (as migration
    tools that run such statements on their own recognise them)."""
    return _OUTSIDE_TRANSACTION.match(sql) is not None


class _Control(Enum):
    OPEN = "open"
    CLOSE = "close"
    CHAIN = "chain"
    """Closes the block and opens the next at once: COMMIT/ROLLBACK AND CHAIN."""


def transaction_blocks(
    statements: Iterable[str], *, assume_in_transaction: bool = False
) -> list[int | None]:
    """The transaction block number (1, 2, … in order) of each statement, or None for autocommit.

    BEGIN and COMMIT belong to the block they open or close. With `assume_in_transaction` the
    runner wraps the unit in one transaction: everything is in block 1 until the unit's own
    COMMIT, and a BEGIN inside it does not open another (PostgreSQL only warns).
    """
    blocks: list[int | None] = []
    opened = 1 if assume_in_transaction else 0
    current: int | None = 1 if assume_in_transaction else None
    for sql in statements:
        control = _control(sql)
        if control is _Control.OPEN and current is None:
            opened += 1
            current = opened
        blocks.append(current)
        if control is _Control.CLOSE:
            current = None
        elif control is _Control.CHAIN and current is not None:
            opened += 1
            current = opened
    return blocks


def _control(sql: str) -> _Control | None:
    """How a statement changes the transaction state, from its first keywords."""
    if _CONTROL_WORD.match(sql) is None:
        return None
    words = [w.upper() for w in _WORD.findall(_COMMENT.sub(" ", sql[:_HEAD_CHARS]))]
    first, second = words[0], words[1] if len(words) > 1 else ""
    if first == "BEGIN" or (first == "START" and second == "TRANSACTION"):
        return _Control.OPEN
    if first == "PREPARE":
        # PREPARE TRANSACTION hands the block to two-phase commit; PREPARE name AS … does not.
        return _Control.CLOSE if second == "TRANSACTION" else None
    if first == "START" or second == "PREPARED" or "TO" in words[1:3]:
        # START something else; COMMIT/ROLLBACK PREPARED (run outside any block);
        # ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] s, which keeps the block open.
        return None
    chained = any(a == "AND" and b == "CHAIN" for a, b in pairwise(words))
    return _Control.CHAIN if chained else _Control.CLOSE
