"""Stand-ins for what a revision imports but cannot import where bgmigrate runs.

pre-commit runs bgmigrate in an environment holding bgmigrate and nothing else, and so does a
CI gate that runs `pip install bgmigrate`. There a revision's `from myapp.db.types import UUID`
or `import sqlalchemy_utils` fails. The revision module is given its own `__import__`: what
imports is used as it is; what does not becomes an `Unknown`, an opaque stand-in, so that the
revision's `op.…` calls still run and are recorded. What the missing code would have decided
stays unknown, and says so:

- as a column type it renders as the quoted name `"<unknown type myapp.db.types.UUID>"`, as
  text in SQL as `"<unknown value myapp.models.TABLE>"`: statements keep their shape and
  parse, and the findings on them name the unknown (`Statement.unknowns`);
- called, it returns another; iterated, it is empty (a loop over the application's
  constants runs no time); compared, it is neither less nor greater (`if count > 0:` takes
  its else branch); as a base class it gives a class of unknowns; named as an exception
  (`NotFoundError`, `DoesNotExist`), it is an exception class, for `except` clauses; after a
  failed `from lib import *`, a name defined nowhere is that module's unknown;
- handed `op` or a connection (`myapp.migrate(op)`), it would run statements bgmigrate cannot
  see, and used more than 100,000 times in one run it is taken for a loop that only the
  missing code would end: `ApplicationCodeNeeded` ends the analysis of that revision, saying
  which name.

Only the revision's own imports go through the stand-ins (its module's `__builtins__`); the
application's modules, when they import, run as they are.
"""

from __future__ import annotations

import builtins
import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy.types import UserDefinedType

__all__ = [
    "UNKNOWN_IN_SQL",
    "ApplicationCodeNeeded",
    "ImportStubs",
    "MissingImport",
    "Unknown",
    "UnknownOperation",
]

UNKNOWN_IN_SQL = re.compile(r'"<unknown (type|value) ([^">]+)>"')
"""How an unknown appears in rendered SQL: its kind and its dotted name."""


@dataclass(frozen=True)
class MissingImport:
    """An import of the revision that failed, and why."""

    name: str
    """The module or name imported (`myapp.db.types`, `myapp.models.User`)."""
    line: int
    reason: str
    """The error, in one line (`ModuleNotFoundError: No module named 'flask'`)."""
    module: str | None
    """The top-level module that was not found, when that was the failure (`flask`)."""


@dataclass(frozen=True)
class UnknownOperation:
    """An `op.<name>` that Alembic does not have here (an extension's operation), or SQL
    executed from an unknown (`op.execute(myapp.sql.CREATE_FUNCTION)`): what it runs is not
    known."""

    name: str
    line: int
    executed: bool = False
    """SQL given to `op.execute` or a connection, rather than an operation."""


class ApplicationCodeNeeded(Exception):
    """The revision cannot be run without the code it could not import: it hands that code
    `op` or a connection (what it runs is unknown), or loops on its values."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(why)
        self.name = name


_USES_BEFORE_GIVING_UP = 100_000
"""Uses of unknowns in one run past which it is taken for a loop that only the missing code
would end (`while removed > 0: removed = prune(redis.zcard(…))`)."""

_uses = 0


def _use(name: str) -> None:
    global _uses
    _uses += 1
    if _uses > _USES_BEFORE_GIVING_UP:
        raise ApplicationCodeNeeded(
            name,
            f"it used values of `{name}`, which could not be imported, more than "
            f"{_USES_BEFORE_GIVING_UP:,} times, as a loop that only that code would end does",
        )


class Unknown(UserDefinedType):  # type: ignore[type-arg]
    """A value of code that could not be imported. A SQLAlchemy type, so that it may stand
    where a column type is expected; anything else asked of it gives another unknown."""

    cache_ok = True

    def __init__(self, _unknown_name: str = "?") -> None:
        # The parameter is named as the attribute, so that SQLAlchemy's copies of a type
        # (`adapt`, which calls the constructor with the attributes it names) keep it.
        self._unknown_name = _unknown_name

    def get_col_spec(self, **kwargs: Any) -> str:
        return f'"<unknown type {self._unknown_name}>"'

    def __getattr__(self, name: str) -> Any:
        # SQLAlchemy and Python probe private names and dunders; a model's table name is the
        # application's (`f"SELECT … FROM {Model.__tablename__}"`).
        if name.startswith("_") and name != "__tablename__":
            raise AttributeError(name)
        if name.startswith("is_"):
            # SQLAlchemy's flags (`is_clause_element`) must say it is not one of its objects;
            # the application's (`tester.is_testing()`) stay callable.
            return _UnknownFlag(f"{self._unknown_name}.{name}")
        qualified = f"{self._unknown_name}.{name}"
        _use(qualified)
        return _stand_in(qualified)

    def __call__(self, *args: Any, **kwargs: Any) -> Unknown:
        _use(self._unknown_name)
        if any(_is_migration_handle(value) for value in (*args, *kwargs.values())):
            raise ApplicationCodeNeeded(
                self._unknown_name,
                f"it passes the migration's `op` or connection to `{self._unknown_name}`, "
                "which could not be imported, so the statements that code runs are unknown",
            )
        return self

    def __getitem__(self, key: Any) -> Unknown:
        return Unknown(f"{self._unknown_name}[…]")

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __contains__(self, item: Any) -> bool:
        return False

    def __lt__(self, other: Any) -> bool:
        _use(self._unknown_name)
        return False  # a comparison with an unknown (`if version < 2:`) takes its else branch

    __le__ = __gt__ = __ge__ = __lt__

    def __enter__(self) -> Unknown:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def __add__(self, other: Any) -> Any:
        return str(self) + other if isinstance(other, str) else self

    def __radd__(self, other: Any) -> Any:
        return other + str(self) if isinstance(other, str) else self

    def __sub__(self, other: Any) -> Unknown:
        return self  # arithmetic on an unknown (`LIMIT - 1`) is unknown

    __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __floordiv__ = __sub__
    __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __sub__
    __and__ = __rand__ = __or__ = __ror__ = __rshift__ = __rrshift__ = __lshift__ = __sub__

    def __neg__(self) -> Unknown:
        return self

    def __str__(self) -> str:
        return f'"<unknown value {self._unknown_name}>"'

    def __repr__(self) -> str:
        return f"<unknown {self._unknown_name}>"

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (_UnknownBase,)

    def __clause_element__(self) -> Any:
        """As a SQL expression (a server default, a value): its name as an identifier."""
        from sqlalchemy import literal_column

        return literal_column(str(self))


_EXCEPTION_NAME = re.compile(r"[A-Z]\w*(?:Error|Exception)|DoesNotExist|MultipleObjectsReturned")


def _stand_in(name: str) -> Any:
    """What a name of code that could not be imported stands for: an exception class when it
    is named as one (`except myapp.errors.NotFoundError:` needs a class), else an unknown."""
    last = name.rpartition(".")[2]
    if _EXCEPTION_NAME.fullmatch(last):
        return type(last, (Exception,), {"__module__": name.rpartition(".")[0]})
    return Unknown(name)


class _UnknownFlag(Unknown):
    """An unknown `is_…` attribute: false, as SQLAlchemy's probes of its own flags need."""

    cache_ok = True

    def __bool__(self) -> bool:
        return False


class _UnknownClass(type):
    def __getattr__(cls, name: str) -> Unknown:
        if name.startswith("_"):
            raise AttributeError(name)
        return Unknown(f"{cls.__qualname__}.{name}")


class _UnknownBase(metaclass=_UnknownClass):
    """The base of a class the revision derives from an unknown (a model, an enum)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Unknown:
        if name.startswith("_"):
            raise AttributeError(name)
        return Unknown(f"{type(self).__qualname__}.{name}")


def _is_migration_handle(value: Any) -> bool:
    """`op`, Alembic's operations or context, or a connection: what code that runs
    statements would need."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection, Engine

    if isinstance(value, ModuleType):
        return value.__name__ == "alembic.op"
    if isinstance(value, (Operations, MigrationContext, Connection, Engine)):
        return True
    return callable(getattr(type(value), "execute", None)) and hasattr(value, "dialect")


class _Builtins(dict):  # type: ignore[type-arg]
    """A revision module's builtins: a name found nowhere comes from the module it
    star-imported, when that import failed."""

    star_imports: list[str]

    def __missing__(self, name: str) -> Any:
        if not self.star_imports:
            raise KeyError(name)
        return _stand_in(f"{self.star_imports[0]}.{name}")


class _Partial:
    """A module that imported, some of whose names (`from mod import a, b`) it lacks."""

    def __init__(self, module: Any, name: str) -> None:
        self._module = module
        self._name = name

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            return _stand_in(f"{self._name}.{name}")


@dataclass
class ImportStubs:
    """One revision run's stand-ins: the imports that failed and the operations Alembic
    lacked, each at the revision's line."""

    filename: str
    missing: list[MissingImport] = field(default_factory=list)
    operations: list[UnknownOperation] = field(default_factory=list)
    star_imports: list[str] = field(default_factory=list)
    """The modules of `from … import *` that failed."""

    @property
    def used(self) -> bool:
        return bool(self.missing or self.operations)

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        """Counts the uses of unknowns from zero while the revision runs."""
        global _uses
        _uses = 0
        yield

    def builtins(self) -> dict[str, Any]:
        """The revision module's `__builtins__`: Python's, with this run's `__import__`; and,
        once the revision star-imported a module that failed (`from peewee import *`), any
        name it does not define is that module's unknown."""
        namespace = _Builtins(builtins.__dict__)
        namespace["__import__"] = self._import
        namespace.star_imports = self.star_imports
        return namespace

    @contextlib.contextmanager
    def operations_of_extensions(self) -> Iterator[None]:
        """While the revision runs, an `op.<name>` Alembic lacks (an extension's operation,
        say `op.sync_enum_values`) is recorded and does nothing, instead of failing."""
        import alembic.op

        def lookup(name: str) -> Callable[..., Unknown]:
            if name.startswith("_"):
                raise AttributeError(name)
            return lambda *args, **kwargs: self._operation(name)

        alembic.op.__getattr__ = lookup  # type: ignore[attr-defined]
        try:
            yield
        finally:
            del alembic.op.__getattr__  # type: ignore[attr-defined]

    def _operation(self, name: str) -> Unknown:
        self.operations.append(UnknownOperation(name, self._caller_line()))
        return Unknown(f"op.{name}")

    def executed(self, statement: Unknown) -> None:
        """The revision executed an unknown as SQL: recorded in place of a statement."""
        self.operations.append(
            UnknownOperation(statement._unknown_name, self._caller_line(), executed=True)
        )

    def _import(
        self,
        name: str,
        globals: dict[str, Any] | None = None,
        locals: dict[str, Any] | None = None,
        fromlist: tuple[str, ...] | list[str] | None = (),
        level: int = 0,
    ) -> Any:
        qualified = "." * level + name
        try:
            module = builtins.__import__(name, globals, locals, fromlist, level)
        except (Exception, SystemExit) as error:  # any failure of the imported code too
            self._missed(qualified, error)
            if fromlist and "*" in fromlist:
                self.star_imports.append(qualified)
            return Unknown(qualified if fromlist else qualified.split(".")[0] or qualified)
        absent = [n for n in fromlist or () if n != "*" and not hasattr(module, n)]
        if not absent:
            return module
        for missing in absent:
            self._missed(
                f"{qualified}.{missing}",
                ImportError(f"cannot import name {missing!r} from {qualified!r}"),
            )
        return _Partial(module, qualified)

    def _missed(self, name: str, error: BaseException) -> None:
        from bgmigrate.source.alembic.failures import describe

        top = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
        self.missing.append(
            MissingImport(name, self._caller_line(), describe(error), top and top.split(".")[0])
        )

    def _caller_line(self) -> int:
        """The line of the revision's code on the stack."""
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back  # type: ignore[assignment]
        return frame.f_lineno if frame is not None else 1
