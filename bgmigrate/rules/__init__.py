"""The rule catalog: one module per rule, registered here by one line each.

Rule names are a contract (see rules.md): never rename one once released.

Each line names the rule (its module is the name with underscores), its category, its default
severity and the operations it visits: what a check needs to choose the rules and send each
operation to the ones that visit it. A check imports a rule's module the first time it needs
more (an operation it visits, a finding of it): a pre-commit run over one file imports the few
that can fire on it, not all of them. A test holds each line to its module's `RULE`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Rule
from bgmigrate.parse.operations import (
    AddColumn,
    AddConstraint,
    AlterColumnType,
    AlterEnum,
    CreateIndex,
    DataChange,
    DetachPartition,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
    Reindex,
    RenameColumn,
    RenameTable,
    SetNotNull,
    SyntaxErrorOp,
    TableRewrite,
    Truncate,
    ValidateConstraint,
)
from bgmigrate.values import Value, frozen_value

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CATALOG", "LISTED", "ListedRule"]

COMPAT, LOCKING, REWRITE = Category.COMPAT, Category.LOCKING, Category.REWRITE
DATA, ROBUSTNESS, STYLE = Category.DATA, Category.ROBUSTNESS, Category.STYLE
ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@frozen_value
class ListedRule(Value):
    """A rule as this catalog lists it, standing for its `Rule` in a check: the fields a check
    chooses and dispatches by are its own (its severity as the config overrides it); any other
    attribute (`check`, `plan_command`…) is the `Rule`'s, its module imported on first use."""

    name: str
    category: Category
    severity: Severity
    visits: tuple[type[Operation], ...]

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # copy and pickle probe for hooks: not a rule's
            raise AttributeError(attribute)
        value = getattr(_rule(self.name), attribute)
        # Kept on the instance: the engine reads `check` for every operation it visits.
        vars(self)[attribute] = value
        return value


def _listed(
    name: str, category: Category, severity: Severity, *visits: type[Operation]
) -> ListedRule:
    return ListedRule(name, category, severity, visits)


LISTED: dict[str, ListedRule] = {
    rule.name: rule
    for rule in (
        _listed("add-check-constraint-without-not-valid", LOCKING, ERROR, AddConstraint, AddColumn),
        _listed("add-column-volatile-default", REWRITE, ERROR, AddColumn),
        _listed("add-column-with-default-pre-pg11", REWRITE, ERROR, AddColumn),
        _listed("add-foreign-key-without-not-valid", LOCKING, ERROR, AddConstraint, AddColumn),
        _listed("add-generated-column", REWRITE, ERROR, AddColumn),
        _listed("add-not-null-column-without-default", COMPAT, ERROR, AddColumn),
        _listed("add-unique-constraint-without-index", LOCKING, ERROR, AddConstraint, AddColumn),
        _listed("alter-enum-rename-value", COMPAT, ERROR, AlterEnum),
        _listed("change-column-type", COMPAT, ERROR, AlterColumnType),
        _listed(
            "concurrently-in-transaction",
            LOCKING,
            ERROR,
            CreateIndex,
            DropIndex,
            Reindex,
            DetachPartition,
        ),
        _listed("create-index-non-concurrently", LOCKING, ERROR, CreateIndex),
        _listed("data-blind-revision", ROBUSTNESS, INFO),
        _listed("data-change-holding-lock", LOCKING, WARNING, DataChange),
        _listed("detach-partition-non-concurrently", LOCKING, ERROR, DetachPartition),
        _listed("drop-column", COMPAT, ERROR, DropColumn),
        _listed("drop-index-non-concurrently", LOCKING, WARNING, DropIndex),
        _listed("drop-table", COMPAT, ERROR, DropTable),
        _listed("invalid-tag", ROBUSTNESS, ERROR),
        _listed("missing-imports", ROBUSTNESS, INFO),
        _listed("not-utf8", ROBUSTNESS, WARNING),
        _listed("possible-rename", COMPAT, WARNING, AddColumn, DropColumn),
        _listed("rename-column", COMPAT, ERROR, RenameColumn),
        _listed("rename-table", COMPAT, ERROR, RenameTable),
        _listed("require-lock-timeout", LOCKING, WARNING, Operation),
        _listed("set-not-null", COMPAT, ERROR, SetNotNull),
        _listed("syntax-error", ROBUSTNESS, ERROR, SyntaxErrorOp),
        _listed("table-rewrite", REWRITE, ERROR, TableRewrite),
        _listed("template-not-parsed", ROBUSTNESS, WARNING, SyntaxErrorOp),
        _listed("truncate-table", DATA, ERROR, Truncate),
        _listed("unanalysable-revision", ROBUSTNESS, INFO),
        _listed("unbatched-backfill", DATA, WARNING, DataChange),
        _listed("unreadable-file", ROBUSTNESS, ERROR),
        _listed("unused-ignore", STYLE, WARNING),
        _listed("validate-in-same-transaction", LOCKING, WARNING, ValidateConstraint),
    )
}
"""Every rule, in catalog order, as a check chooses and dispatches them."""


def _rule(name: str) -> Rule:
    rule: Rule = import_module(f"{__name__}.{name.replace('-', '_')}").RULE
    return rule


class _Catalog(Mapping[str, Rule]):
    """Every rule by name, in catalog order, each module imported when its rule is asked for."""

    def __getitem__(self, name: str) -> Rule:
        if name not in LISTED:
            raise KeyError(name)
        return _rule(name)

    def __iter__(self) -> Iterator[str]:
        return iter(LISTED)

    def __len__(self) -> int:
        return len(LISTED)


CATALOG: Mapping[str, Rule] = _Catalog()
"""The rules as `bgmigrate rules`, `explain`, docs/rules.md and the reports read them."""
