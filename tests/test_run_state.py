"""The run's schema kept compactly (`RunState`) answers as plain per-table maps would.

Most tables keep their defaults inside their columns' entries; the defaults have a life of
their own (they outlive a dropped column, stay with a renamed table's old name), which the
compact form must keep. A table's columns are one flat tuple that starts with its key (a
column may be named as the key is: it is a column all the same), and a table's defaults have
an entry of their own only once set apart. A reference model with two plain maps checks
every sequence.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bgmigrate.check.context import RunState
from bgmigrate.parse.operations import TypeName

TABLES = ("public.a", "public.b")
COLUMNS = ("x", "y", "z", "public.a")
TYPES = (None, TypeName("int4"), TypeName("text"))
DEFAULTS = (None, "now()", "0")


class PlainMaps:
    """What RunState kept before it was made compact: one dict per table for each."""

    def __init__(self) -> None:
        self.columns: dict[str, dict[str, TypeName | None]] = {}
        self.defaults: dict[str, dict[str, str | None]] = {}

    def define_table(self, table: str, columns: list[tuple[str, TypeName | None, str | None]]):
        self.columns[table] = {name: kind for name, kind, _ in columns}
        self.defaults[table] = {name: default for name, _, default in columns}

    def define_column(self, table: str, column: str, kind: TypeName | None, default: str | None):
        self.columns.setdefault(table, {})[column] = kind
        self.defaults.setdefault(table, {})[column] = default

    def set_column_type(self, table: str, column: str, kind: TypeName | None) -> None:
        self.columns.setdefault(table, {})[column] = kind

    def set_default(self, table: str, column: str, default: str | None) -> None:
        self.defaults.setdefault(table, {})[column] = default

    def drop_column(self, table: str, column: str) -> TypeName | None:
        return self.columns.get(table, {}).pop(column, None)

    def rename_column(self, table: str, column: str, new_name: str) -> None:
        columns = self.columns.setdefault(table, {})
        columns[new_name] = columns.pop(column, None)

    def move_columns(self, table: str, renamed: str | None) -> None:
        if table in self.columns:
            moved = self.columns.pop(table)
            if renamed is not None:
                self.columns[renamed] = moved

    def column_type(self, table: str, column: str) -> TypeName | None:
        return self.columns.get(table, {}).get(column)

    def column_default(self, table: str, column: str) -> str | None:
        defaults = self.defaults.get(table, {})
        return defaults[column] or "" if column in defaults else None


table, column = st.sampled_from(TABLES), st.sampled_from(COLUMNS)
kind, default = st.sampled_from(TYPES), st.sampled_from(DEFAULTS)
STEPS = st.one_of(
    st.tuples(
        st.just("define_table"), table, st.lists(st.tuples(column, kind, default), max_size=3)
    ),
    st.tuples(st.just("define_column"), table, column, kind, default),
    st.tuples(st.just("set_column_type"), table, column, kind),
    st.tuples(st.just("set_default"), table, column, default),
    st.tuples(st.just("drop_column"), table, column),
    st.tuples(st.just("rename_column"), table, column, column),
    st.tuples(st.just("move_columns"), table, st.sampled_from((*TABLES, None))),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(STEPS, max_size=12))
def test_the_compact_schema_answers_as_plain_maps_do(steps: list[tuple]) -> None:
    run, plain = RunState(), PlainMaps()
    for method, *arguments in steps:
        assert getattr(run, method)(*arguments) == getattr(plain, method)(*arguments)
        for name in TABLES:
            assert (name in run.columns) == (name in plain.columns)
            assert run.key(name) == name
            for col in COLUMNS:
                assert run.column_type(name, col) == plain.column_type(name, col)
                assert run.column_default(name, col) == plain.column_default(name, col)


def test_a_dropped_column_keeps_its_default_and_a_renamed_table_leaves_its_defaults() -> None:
    run = RunState()
    run.define_table("public.a", [("x", TypeName("int4"), "0"), ("y", None, None)])
    assert run.drop_column("public.a", "x") == TypeName("int4")
    assert (run.column_type("public.a", "x"), run.column_default("public.a", "x")) == (None, "0")
    run.move_columns("public.a", "public.b")
    assert run.column_default("public.a", "y") == ""
    assert run.column_default("public.b", "y") is None
    assert run.column_type("public.b", "y") is None and "public.b" in run.columns


def test_an_index_table_is_named_as_it_was_written_with_or_without_its_schema() -> None:
    """The run keeps an index's table as its key when it was written without a schema, as a
    `Name` otherwise: `users`, `public.users` and `app.users` each come back as written."""
    from bgmigrate.check.api import check_sql

    for written, index in (("users", "ix"), ("public.users", "ix"), ("app.users", "app.ix")):
        [drop] = [
            finding
            for finding in check_sql(
                f"DROP INDEX {index};",
                before=f"CREATE INDEX ix ON {written} (email);",
            ).findings
            if finding.rule == "drop-index-non-concurrently"
        ]
        assert f"ACCESS EXCLUSIVE lock on its table, {written}:" in drop.message
