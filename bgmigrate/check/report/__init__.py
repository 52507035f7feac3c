"""Report formats of `bgmigrate check`: one module per format, registered here by name.

Each format's module has a `Writer` (`report.stream.ReportWriter`), which writes the report
as the run hands over its units and findings: what `bgmigrate check` uses, so that a run
holds neither its findings nor its report. Its `render` feeds a whole `CheckResult` through
the same writer, into the complete text to write to stdout, including its final newline (the
`github` format writes nothing when nothing is unsuppressed). `rules` is the catalog by rule
name; formats use it for rule metadata and cope with findings whose rule is not in it.
`color` asks for terminal colours; only `text` has any. Adding a format is adding its module
and one line to `_MODULES`.

A format's module is imported when it is asked for: a pre-commit run renders one format and
should not import the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from importlib import import_module

from bgmigrate.check.result import CheckResult
from bgmigrate.check.rule import Rule

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Protocol

    from bgmigrate.check.report.stream import ReportWriter

__all__ = ["FORMATS", "Renderer", "writer"]


if TYPE_CHECKING:

    class Renderer(Protocol):
        def __call__(
            self, result: CheckResult, rules: Mapping[str, Rule], *, color: bool
        ) -> str: ...

else:
    Renderer = Callable  # the type checker's protocol; at run time, any callable


_MODULES = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab",
    "markdown": "markdown",
}


def writer(name: str) -> type[ReportWriter]:
    """The writer of the format `name`."""
    found: type[ReportWriter] = import_module(f"{__name__}.{_MODULES[name]}").Writer
    return found


class _Formats(Mapping[str, Renderer]):
    def __getitem__(self, name: str) -> Renderer:
        renderer: Renderer = import_module(f"{__name__}.{_MODULES[name]}").render
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


FORMATS: Mapping[str, Renderer] = _Formats()
