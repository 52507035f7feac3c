"""`bgmigrate check`, `bgmigrate rules`, `bgmigrate explain`: wiring to bgmigrate.check."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from bgmigrate.cli.errors import fail

__all__ = ["register"]


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    never = "never"


class CatalogFormat(str, Enum):
    text = "text"
    json = "json"


def _names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or [] for n in v.split(",") if n.strip())


def check(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="SQL files, Alembic revisions or projects, directories; '-' reads SQL from "
            "stdin. Default: `paths` from the config.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        CheckFormat | None,
        typer.Option("--format", help="text (default), json, sarif, github or gitlab."),
    ] = None,
    pg_version: Annotated[
        int | None,
        typer.Option(
            min=9, max=99, help="Target PostgreSQL major version (default: config, else 16)."
        ),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(help="Only these rules or categories (comma-separated, repeatable)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(help="Skip these rules or categories (comma-separated, repeatable)."),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option(help="Lowest severity that makes the exit code 1.")
    ] = FailOn.error,
    since: Annotated[
        str | None,
        typer.Option(
            help="Report only migrations added or changed since this git ref (earlier ones "
            "still give context)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file (default: nearest bgmigrate.toml or "
            "pyproject.toml with [tool.bgmigrate]).",
        ),
    ] = None,
    stdin_filename: Annotated[
        str, typer.Option(help="The name to report for SQL read from stdin.")
    ] = "<stdin>",
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color", help="Colour text output (default: on a terminal)."),
    ] = None,
) -> None:
    """Check migrations for changes that break the running app version or lock its traffic.

    Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 could not check.

    Examples:

      bgmigrate check migrations/

      bgmigrate check alembic/versions/ --format github --since origin/main

      git diff --name-only | grep .sql | xargs bgmigrate check --fail-on warning
    """
    from bgmigrate.check.finding import Severity
    from bgmigrate.check.report import FORMATS
    from bgmigrate.check.runner import CheckOptions, CheckProblem, run_check
    from bgmigrate.rules import CATALOG

    stdin_text = sys.stdin.read() if paths and "-" in paths else None
    options = CheckOptions(
        paths=tuple(paths or ()),
        stdin_text=stdin_text,
        stdin_filename=stdin_filename,
        pg_version=pg_version,
        select=_names(select),
        ignore=_names(ignore),
        since=since,
        config_file=config,
    )
    try:
        result = run_check(options)
    except CheckProblem as problem:
        fail(str(problem))
    is_terminal = sys.stdout.isatty()
    chosen = (output_format or CheckFormat.text).value
    rendered = FORMATS[chosen](result, CATALOG, color=is_terminal if color is None else color)
    sys.stdout.write(rendered if rendered.endswith("\n") or not rendered else rendered + "\n")
    threshold = None if fail_on is FailOn.never else Severity(fail_on.value)
    raise typer.Exit(1 if result.fails(threshold) else 0)


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
    app.command()(check)
    app.command()(rules)
    app.command()(explain)
