"""What a check produces: findings, with their severity and where they point."""

from __future__ import annotations

from enum import Enum

from bgmigrate.source.unit import Location
from bgmigrate.values import Value, frozen_value

__all__ = ["Category", "Finding", "Severity"]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Category(str, Enum):
    COMPAT = "compat"
    LOCKING = "locking"
    REWRITE = "rewrite"
    DATA = "data"
    ROBUSTNESS = "robustness"
    STYLE = "style"


@frozen_value
class Finding(Value):
    """One rule's verdict on one operation, located in the file a user edits."""

    rule: str
    category: Category
    severity: Severity
    path: str
    location: Location
    statement: str
    message: str
    safe_alternative: str
    suppressed: bool = False
    suppression_reason: str | None = None
