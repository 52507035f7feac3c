"""The plan's output formats: one module each, registered here by their `--format` name.
Adding a format is adding its module and one line below."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.plan.model import Plan
from bgmigrate.plan.render import (
    alembic_revisions,
    markdown,
    plan_json,
    plan_toml,
    sql_files,
    text,
)
from bgmigrate.plan.render.output import Format, RenderedFile

__all__ = ["FORMATS", "Format", "RenderedFile", "render"]

FORMATS: dict[str, Format] = {}


def register(format_: Format) -> None:
    FORMATS[format_.name] = format_


register(Format("toml", plan_toml.render, summary="the plan file, input of apply"))
register(Format("json", plan_json.render, summary="the plan file as JSON"))
register(Format("text", text.render, summary="the phases as a tree"))
register(Format("markdown", markdown.render, summary="a pull-request description"))
register(Format("sql", sql_files.render, directory=True, summary="one SQL file per db phase"))
register(
    Format(
        "alembic",
        alembic_revisions.render,
        directory=True,
        summary="one Alembic revision per db phase, after the current head",
    )
)


def render(plan: Plan, format_name: str, out: Path | None = None) -> list[RenderedFile]:
    """`plan` in the format called `format_name`."""
    return FORMATS[format_name].render(plan, out)
