"""What a test needs from the Python running it, where bgmigrate does less on older ones."""

from __future__ import annotations

import sys

import pytest

INSTRUCTION_POSITIONS = sys.version_info >= (3, 11)
"""Python 3.11's instruction positions (`co_positions`): where in its line a call stands."""

needs_static_alembic = pytest.mark.skipif(
    not INSTRUCTION_POSITIONS,
    reason="the static Alembic reader needs Python 3.11's instruction positions to locate a "
    "call as Alembic's replay does; on 3.10 every revision goes to Alembic",
)
