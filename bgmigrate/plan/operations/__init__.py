"""The plan operations: one module each, registered here by the name of the plan file's
`operation` field. Adding an operation is adding its module and one line below."""

from __future__ import annotations

from bgmigrate.plan.operations.add_column import AddColumn
from bgmigrate.plan.operations.add_foreign_key import AddForeignKey
from bgmigrate.plan.operations.add_index import AddIndex
from bgmigrate.plan.operations.add_unique import AddUnique
from bgmigrate.plan.operations.base import PlanOperation, PlanOptions, build_plan
from bgmigrate.plan.operations.drop import DropColumn, DropTable, drop_operation
from bgmigrate.plan.operations.rename import RenameColumn, RenameTable, rename_operation
from bgmigrate.plan.operations.retype import Retype
from bgmigrate.plan.operations.set_not_null import SetNotNull
from bgmigrate.plan.operations.split import Split

__all__ = [
    "OPERATIONS",
    "AddColumn",
    "AddForeignKey",
    "AddIndex",
    "AddUnique",
    "DropColumn",
    "DropTable",
    "PlanOperation",
    "PlanOptions",
    "RenameColumn",
    "RenameTable",
    "Retype",
    "SetNotNull",
    "Split",
    "build_plan",
    "drop_operation",
    "rename_operation",
]

OPERATIONS: dict[str, type[PlanOperation]] = {}


def register(operation: type[PlanOperation]) -> None:
    OPERATIONS[operation.name] = operation


register(RenameColumn)
register(RenameTable)
register(Retype)
register(AddColumn)
register(SetNotNull)
register(DropColumn)
register(DropTable)
register(Split)
register(AddForeignKey)
register(AddUnique)
register(AddIndex)
