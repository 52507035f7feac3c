"""What a renderer produces: named files, and the format's entry in the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bgmigrate.plan.model import Plan

__all__ = ["Format", "RenderedFile"]


@dataclass(frozen=True)
class RenderedFile:
    name: str
    """A file name, relative to the output directory."""
    text: str


@dataclass(frozen=True)
class Format:
    name: str
    render: Callable[[Plan, Path | None], list[RenderedFile]]
    """The plan as files; the path is `--out`, which a format may read (Alembic: the head)."""
    directory: bool = False
    """Writes several files: `--out` names a directory."""
    summary: str = ""
