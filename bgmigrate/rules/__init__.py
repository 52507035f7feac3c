"""The rule catalog: one module per rule, registered here by one line each.

Rule names are a contract (see rules.md): never rename one once released.
"""

from __future__ import annotations

from importlib import import_module

from bgmigrate.check.rule import Rule

__all__ = ["CATALOG"]

_RULE_MODULES = (
    "add_check_constraint_without_not_valid",
    "add_column_volatile_default",
    "add_column_with_default_pre_pg11",
    "add_foreign_key_without_not_valid",
    "add_generated_column",
    "add_not_null_column_without_default",
    "add_unique_constraint_without_index",
    "alter_enum_rename_value",
    "change_column_type",
    "concurrently_in_transaction",
    "create_index_non_concurrently",
    "data_blind_revision",
    "data_change_holding_lock",
    "detach_partition_non_concurrently",
    "drop_column",
    "drop_index_non_concurrently",
    "drop_table",
    "invalid_tag",
    "missing_imports",
    "not_utf8",
    "possible_rename",
    "rename_column",
    "rename_table",
    "require_lock_timeout",
    "set_not_null",
    "syntax_error",
    "table_rewrite",
    "template_not_parsed",
    "truncate_table",
    "unanalysable_revision",
    "unbatched_backfill",
    "unreadable_file",
    "unused_ignore",
    "validate_in_same_transaction",
)

CATALOG: dict[str, Rule] = {
    rule.name: rule
    for rule in (import_module(f"{__name__}.{module}").RULE for module in _RULE_MODULES)
}
