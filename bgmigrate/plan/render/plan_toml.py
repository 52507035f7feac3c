"""The plan file as TOML: the artefact reviewed in the pull request and read by `apply`."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.plan.model import Plan
from bgmigrate.plan.render.output import RenderedFile

__all__ = ["render"]


def render(plan: Plan, out: Path | None = None) -> list[RenderedFile]:
    return [RenderedFile(f"{plan.id}.toml", plan.to_toml())]
