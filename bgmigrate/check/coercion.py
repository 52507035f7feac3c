"""Which column type changes PostgreSQL makes without touching the stored data.

`ALTER COLUMN … TYPE` rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE unless
the conversion is binary-coercible (a relabel that the planner's support functions can prove,
e.g. a wider length limit). The pairs below are the ones measured to keep both the table's and
its indexes' files (`pg_class.relfilenode`) on PostgreSQL 18; `tests/rules/test_coercion.py`
measures them again. Anything not listed is assumed to rewrite: a false alarm costs a review,
a missed rewrite costs an outage.
"""

from __future__ import annotations

from enum import Enum

from bgmigrate.parse.operations import TypeName

__all__ = ["Coercion", "coercion", "same_type"]


class Coercion(str, Enum):
    BINARY = "binary"
    """Metadata only: neither the table nor its indexes are rewritten."""
    TIMEZONE = "timezone"
    """`timestamp` ↔ `timestamptz`: the table is rewritten unless the session TimeZone is UTC,
    and its indexes on the column are rebuilt even then."""
    INDEXES = "indexes"
    """The table keeps its data, but every index on the column is rebuilt under ACCESS
    EXCLUSIVE (a binary-coercible cast to a type with other comparison semantics)."""
    REWRITE = "rewrite"
    """Not known to be binary-coercible: assume the table and its indexes are rewritten."""


_BUILTIN_SCHEMAS = (None, "pg_catalog")

# Types whose only modifier is a limit (length or fractional-second precision) that PostgreSQL
# relabels for free when it grows or goes away; narrowing or adding one checks every row.
_LIMITED = frozenset({"varchar", "varbit", "timestamp", "timestamptz", "time", "timetz"})

# Unlimited character types that share a binary representation: `varchar(n)` relabels to both.
_TEXT_LIKE = frozenset({"text", "varchar"})

_TIMESTAMPS = frozenset({"timestamp", "timestamptz"})


def same_type(a: TypeName, b: TypeName) -> bool:
    """True when `a` and `b` denote the same type with the same modifiers."""
    return (
        a.name == b.name
        and _schema(a) == _schema(b)
        and a.modifiers == b.modifiers
        and a.array_dimensions == b.array_dimensions
    )


def coercion(old: TypeName, new: TypeName) -> Coercion:
    """What changing a column from `old` to `new` does to the stored data (without USING)."""
    if same_type(old, new):
        return Coercion.BINARY
    builtin = _schema(old) is None and _schema(new) is None
    # Arrays go through an element-wise coercion, which always rewrites (measured even for
    # varchar(10)[] → text[]).
    if not builtin or old.array_dimensions or new.array_dimensions:
        return Coercion.REWRITE
    if {old.name, new.name} == _TIMESTAMPS:
        return Coercion.TIMEZONE if _limit_widens(old, new) else Coercion.REWRITE
    if old.name == new.name:
        return Coercion.BINARY if _modifiers_widen(old, new) else Coercion.REWRITE
    if old.name in _TEXT_LIKE and new.name in _TEXT_LIKE:
        # To text or unlimited varchar; text → varchar(n) checks every value's length.
        return Coercion.REWRITE if new.modifiers else Coercion.BINARY
    if (old.name, new.name) == ("cidr", "inet"):
        return Coercion.BINARY
    if old.name in _TEXT_LIKE and new.name == "citext" and not old.modifiers:
        # citext declares binary-coercible casts from text and varchar; measured on
        # PostgreSQL 15 (pypi/warehouse's migration): same table filenode, new index filenodes.
        return Coercion.INDEXES
    return Coercion.REWRITE


def _schema(type_name: TypeName) -> str | None:
    return None if type_name.schema in _BUILTIN_SCHEMAS else type_name.schema


def _modifiers_widen(old: TypeName, new: TypeName) -> bool:
    if old.name == "numeric":
        return _numeric_widens(old.modifiers, new.modifiers)
    return old.name in _LIMITED and _limit_widens(old, new)


def _limit_widens(old: TypeName, new: TypeName) -> bool:
    """True when the new limit is absent or at least the old one (none before means none after)."""
    if not new.modifiers:
        return True
    return bool(old.modifiers) and new.modifiers[0] >= old.modifiers[0]


def _numeric_widens(old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """numeric(p, s) relabels to unconstrained numeric, or to more precision at the same scale."""
    if not new:
        return True
    if not old:
        return False
    old_scale = old[1] if len(old) > 1 else 0
    new_scale = new[1] if len(new) > 1 else 0
    return new_scale == old_scale and new[0] >= old[0]
