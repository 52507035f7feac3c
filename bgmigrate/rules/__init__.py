"""The rule catalog: one module per rule, registered here by one line each.

Rule names are a contract (see rules.md): never rename one once released.
"""

from __future__ import annotations

from bgmigrate.check.rule import Rule
from bgmigrate.rules import (
    rename_column,
    syntax_error,
    unused_ignore,
)

__all__ = ["CATALOG"]

CATALOG: dict[str, Rule] = {
    module.RULE.name: module.RULE
    for module in (
        rename_column,
        syntax_error,
        unused_ignore,
    )
}
