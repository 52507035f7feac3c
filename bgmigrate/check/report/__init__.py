"""Report formats of `bgmigrate check`: one module per format, registered here by name.

A renderer turns a whole `CheckResult` into the complete text to write to stdout,
including its final newline (the `github` format writes nothing when nothing is
unsuppressed). `rules` is the catalog by rule name; formats use it for rule metadata and
cope with findings whose rule is not in it. `color` asks for terminal colours; only
`text` has any. Adding a format is adding its module and one line to `FORMATS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bgmigrate.check.report import github, gitlab, json_report, sarif, text
from bgmigrate.check.result import CheckResult
from bgmigrate.check.rule import Rule

__all__ = ["FORMATS", "Renderer"]


class Renderer(Protocol):
    def __call__(self, result: CheckResult, rules: Mapping[str, Rule], *, color: bool) -> str: ...


FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "github": github.render,
    "gitlab": gitlab.render,
}
