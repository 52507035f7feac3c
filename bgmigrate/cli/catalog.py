"""`bgmigrate rules` and `bgmigrate explain`: wiring to bgmigrate.check.catalog."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from bgmigrate.cli.errors import fail

__all__ = ["register"]


class CatalogFormat(str, Enum):
    text = "text"
    json = "json"


def rules(
    output_format: Annotated[
        CatalogFormat, typer.Option("--format", help="text or json.")
    ] = CatalogFormat.text,
) -> None:
    """List the rule catalog: name, category, default severity, summary.

    Example:

      bgmigrate rules --format json | jq '.[].name'
    """
    from bgmigrate.check.catalog import catalog_json, catalog_table

    if output_format is CatalogFormat.json:
        sys.stdout.write(catalog_json() + "\n")
    else:
        sys.stdout.write(catalog_table(color=sys.stdout.isatty()))


def explain(
    rule: Annotated[str, typer.Argument(help="A rule name, e.g. rename-column.")],
    output_format: Annotated[
        CatalogFormat, typer.Option("--format", help="text (Markdown) or json.")
    ] = CatalogFormat.text,
) -> None:
    """Print one rule's documentation: what it flags, why, examples, and what to do instead.

    Example:

      bgmigrate explain create-index-non-concurrently
    """
    from bgmigrate.check.catalog import explain_json, explain_markdown
    from bgmigrate.rules import CATALOG

    if rule not in CATALOG:
        from difflib import get_close_matches

        near = get_close_matches(rule, list(CATALOG), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else "; `bgmigrate rules` lists them"
        fail(f"no rule named {rule!r}{hint}")
    if output_format is CatalogFormat.json:
        sys.stdout.write(explain_json(CATALOG[rule]) + "\n")
        return
    text = explain_markdown(CATALOG[rule])
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)


def register(app: typer.Typer) -> None:
    app.command()(rules)
    app.command()(explain)
