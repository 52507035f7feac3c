"""Sources: migration files → units of located statements."""

from bgmigrate.source.discover import Discovered, discover
from bgmigrate.source.errors import SourceError
from bgmigrate.source.sql import read_sql_unit, split_sql

__all__ = [
    "Discovered",
    "SourceError",
    "discover",
    "read_sql_unit",
    "split_sql",
]
