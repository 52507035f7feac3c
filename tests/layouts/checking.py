"""Checking a fixture of `fixtures/layouts/` as a user would: `bgmigrate check <directory>`."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.check.result import CheckResult
from bgmigrate.check.runner import CheckOptions, run_check

LAYOUTS = Path(__file__).resolve().parents[2] / "fixtures" / "layouts"


class Checked:
    """A check of one layout fixture, its paths relative to the fixture."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result

    @property
    def findings(self) -> list[tuple[str, str, int]]:
        return [(f.rule, f.path, f.location.line) for f in self.result.findings]

    @property
    def units(self) -> list[str]:
        return [unit.path for unit in self.result.units]

    @property
    def skipped(self) -> list[tuple[str, str, int | None]]:
        return [(s.path, s.reason.value, s.line) for s in self.result.skipped]


def check_directory(directory: Path, *paths: str) -> Checked:
    """Check `paths` (default: all) below `directory`, from inside it."""
    return Checked(run_check(CheckOptions(paths=paths or (".",), cwd=directory)))


def check_layout(layout: str, *paths: str) -> Checked:
    """Check the fixture of `layout` (or `paths` in it)."""
    return check_directory(LAYOUTS / layout, *paths)
