"""Migration tools' layouts: one module each, registered here by one line, most specific first.

`detect_layout(directory)` is the first registered layout whose `detect` accepts the
directory's names (`layout_of` its names read already); a directory no layout claims is read
as plain SQL (natural file order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from pathlib import Path

from bgmigrate.source.layouts.base import Entries, Layout, read_entries

__all__ = ["LAYOUTS", "PLAIN", "detect_layout", "layout_of"]

PLAIN = "plain"
"""The name of SQL files that no tool's layout claims: each file is one migration."""

_LAYOUT_MODULES = (
    "alembic",
    "sqitch",
    "prisma",
    "liquibase",
    "graphile_migrate",
    "supabase",
    "diesel",
    "sqlx",
    "pop",
    "golang_migrate",
    "goose",
    "dbmate",
    "sql_migrate",
    "flyway",
    "postgres_migrations",
)


class _Layouts(Mapping[str, Layout]):
    """The registry by name, each module imported the first time any layout is asked for."""

    _loaded: dict[str, Layout] | None = None

    def _all(self) -> dict[str, Layout]:
        if self._loaded is None:
            layouts = (import_module(f"{__name__}.{module}").LAYOUT for module in _LAYOUT_MODULES)
            _Layouts._loaded = {layout.name: layout for layout in layouts}
        return self._loaded

    def __getitem__(self, name: str) -> Layout:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


LAYOUTS: Mapping[str, Layout] = _Layouts()


def detect_layout(directory: Path) -> Layout | None:
    """The layout of the migration tool that owns `directory`, judged from its names alone;
    None for plain SQL (or no migrations at all)."""
    return layout_of(read_entries(directory))


def layout_of(entries: Entries) -> Layout | None:
    """`detect_layout` of the directory whose names are `entries`."""
    if not entries.files and not entries.directories:
        return None
    for layout in LAYOUTS.values():
        if layout.detect(entries):
            return layout
    return None
