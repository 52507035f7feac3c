"""The plan file as JSON: the same content as the TOML file, for tools."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.plan.model import Plan
from bgmigrate.plan.render.output import RenderedFile

__all__ = ["render"]


def render(plan: Plan, out: Path | None = None) -> list[RenderedFile]:
    return [RenderedFile(f"{plan.id}.json", plan.to_json())]
