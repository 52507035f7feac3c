"""The PostgreSQL front end: statement text → typed operations, located in the file."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgmigrate.parse.operations import (
    AddColumn,
    AddConstraint,
    AddDomainConstraint,
    AlterColumnType,
    AlterEnum,
    AlterEnumAction,
    AttachPartition,
    ColumnDefault,
    ColumnDefinition,
    ConstraintKind,
    CreateIndex,
    CreateObject,
    CreateTable,
    DataChange,
    DetachPartition,
    DropColumn,
    DropConstraint,
    DropDefault,
    DropIndex,
    DropNotNull,
    DropObject,
    DropTable,
    Generated,
    InlineConstraint,
    LockTable,
    Name,
    Operation,
    OtherAlterTable,
    RefreshMaterializedView,
    Reindex,
    RenameColumn,
    RenameObject,
    RenameTable,
    SetDefault,
    SetGuc,
    SetNotNull,
    SyntaxErrorOp,
    TableRewrite,
    Transaction,
    TransactionAction,
    Truncate,
    TypeName,
    Unknown,
    ValidateConstraint,
    Volatility,
)
from bgmigrate.parse.postgres import parse_statement
from bgmigrate.parse.volatility import builtin_volatility
from bgmigrate.source.unit import Location, Statement

INT4 = TypeName("int4")
T = Name("t")


def statement(sql: str, *, line: int = 1, column: int = 1, path: str = "m.sql") -> Statement:
    """A statement as a SQL source would hand it over, starting at `line`:`column`."""
    lines = sql.split("\n")
    end_line = line + len(lines) - 1
    end_column = column + len(lines[0]) - 1 if len(lines) == 1 else len(lines[-1])
    return Statement(
        sql=sql, path=path, location=Location(line, column, end_line, end_column), index=0
    )


def parse(sql: str, **where: int | str) -> list[Operation]:
    return parse_statement(statement(sql, **where))  # type: ignore[arg-type]


def single(sql: str) -> tuple[Operation, Statement, Location]:
    """The only operation of `sql`, with the statement and its whole location to compare to."""
    stmt = statement(sql)
    operations = parse_statement(stmt)
    assert len(operations) == 1, operations
    return operations[0], stmt, stmt.location


def default(sql: str, volatility: Volatility, culprit: str | None = None) -> ColumnDefault:
    return ColumnDefault(sql, volatility, culprit)


# --- CREATE TABLE ----------------------------------------------------------------------------


def test_create_table_reads_columns_types_defaults_and_constraints() -> None:
    op, stmt, whole = single(
        "CREATE TABLE IF NOT EXISTS app.orders (\n"
        "  id bigserial PRIMARY KEY,\n"
        "  user_id bigint NOT NULL REFERENCES users (id),\n"
        "  total numeric(12,2) NOT NULL DEFAULT 0 CHECK (total >= 0),\n"
        "  created_at timestamp with time zone DEFAULT now() NOT NULL,\n"
        "  token uuid DEFAULT gen_random_uuid(),\n"
        "  tags text[],\n"
        "  code text DEFAULT 'x' COLLATE \"C\",\n"
        "  n int GENERATED ALWAYS AS IDENTITY,\n"
        "  twice int GENERATED ALWAYS AS (n * 2) STORED,\n"
        "  CONSTRAINT orders_code_key UNIQUE (code, user_id)\n"
        ")"
    )
    assert op == CreateTable(
        stmt,
        whole,
        table=Name("orders", "app"),
        columns=(
            ColumnDefinition(
                "id",
                TypeName("int8"),
                not_null=True,
                generated=Generated.SERIAL,
                constraints=(InlineConstraint(ConstraintKind.PRIMARY_KEY),),
            ),
            ColumnDefinition(
                "user_id",
                TypeName("int8"),
                not_null=True,
                constraints=(
                    InlineConstraint(
                        ConstraintKind.FOREIGN_KEY,
                        references=Name("users"),
                        referenced_columns=("id",),
                    ),
                ),
            ),
            ColumnDefinition(
                "total",
                TypeName("numeric", modifiers=(12, 2)),
                not_null=True,
                default=default("0", Volatility.IMMUTABLE),
                constraints=(InlineConstraint(ConstraintKind.CHECK, check_sql="total >= 0"),),
            ),
            ColumnDefinition(
                "created_at",
                TypeName("timestamptz"),
                not_null=True,
                default=default("now()", Volatility.STABLE),
            ),
            ColumnDefinition(
                "token",
                TypeName("uuid"),
                default=default("gen_random_uuid()", Volatility.VOLATILE, "gen_random_uuid"),
            ),
            ColumnDefinition("tags", TypeName("text", array_dimensions=1)),
            ColumnDefinition(
                "code", TypeName("text"), default=default("'x'", Volatility.IMMUTABLE)
            ),
            ColumnDefinition("n", INT4, generated=Generated.IDENTITY),
            ColumnDefinition("twice", INT4, generated=Generated.STORED),
        ),
        constraints=(
            InlineConstraint(
                ConstraintKind.UNIQUE, name="orders_code_key", columns=("code", "user_id")
            ),
        ),
        if_not_exists=True,
    )


def test_generated_column_without_stored_is_virtual() -> None:
    op, _, _ = single("CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a + 1))")
    assert isinstance(op, CreateTable)
    assert op.columns[1].generated is Generated.VIRTUAL


@pytest.mark.parametrize(
    ("written", "normalised", "generated"),
    [
        ("int", INT4, None),
        ("integer", INT4, None),
        ("int4", INT4, None),
        ("smallserial", TypeName("int2"), Generated.SERIAL),
        ("serial", INT4, Generated.SERIAL),
        ("serial8", TypeName("int8"), Generated.SERIAL),
        ("character varying(255)", TypeName("varchar", modifiers=(255,)), None),
        ("varchar", TypeName("varchar"), None),
        ("timestamptz", TypeName("timestamptz"), None),
        ("timestamp(3) without time zone", TypeName("timestamp", modifiers=(3,)), None),
        ("double precision", TypeName("float8"), None),
        ("boolean", TypeName("bool"), None),
        ("decimal(10, 2)", TypeName("numeric", modifiers=(10, 2)), None),
        ("int[][]", TypeName("int4", array_dimensions=2), None),
        ("pg_catalog.int8", TypeName("int8"), None),
        ('billing."Money"', TypeName("Money", "billing"), None),
        ("MyType", TypeName("mytype"), None),
    ],
)
def test_column_types_are_normalised_to_internal_names(
    written: str, normalised: TypeName, generated: Generated | None
) -> None:
    op, _, _ = single(f"ALTER TABLE t ADD COLUMN c {written}")
    assert isinstance(op, AddColumn)
    assert (op.column.type, op.column.generated) == (normalised, generated)


def test_create_table_as_and_select_into_make_filled_tables() -> None:
    op, stmt, whole = single("CREATE TABLE IF NOT EXISTS s.copy AS SELECT * FROM t")
    assert op == CreateTable(stmt, whole, Name("copy", "s"), if_not_exists=True, as_select=True)
    op, stmt, whole = single("SELECT * INTO copy FROM t WHERE a > 1")
    assert op == CreateTable(stmt, whole, Name("copy"), as_select=True)


def test_names_are_folded_as_postgresql_folds_them() -> None:
    op, _, _ = single('CREATE TABLE Public.Users ("Email" text, Name text)')
    assert isinstance(op, CreateTable)
    assert op.table == Name("users", "public")
    assert [column.name for column in op.columns] == ["Email", "name"]


# --- ALTER TABLE: columns --------------------------------------------------------------------


def test_add_column_with_default_and_inline_constraints() -> None:
    op, stmt, whole = single(
        "ALTER TABLE ONLY s.t ADD COLUMN IF NOT EXISTS parent_id bigint NOT NULL DEFAULT 0 "
        "CONSTRAINT t_parent_fk REFERENCES s.parent UNIQUE CHECK (parent_id >= 0)"
    )
    assert op == AddColumn(
        stmt,
        whole,
        Name("t", "s"),
        ColumnDefinition(
            "parent_id",
            TypeName("int8"),
            not_null=True,
            default=default("0", Volatility.IMMUTABLE),
            constraints=(
                InlineConstraint(
                    ConstraintKind.FOREIGN_KEY, name="t_parent_fk", references=Name("parent", "s")
                ),
                InlineConstraint(ConstraintKind.UNIQUE),
                InlineConstraint(ConstraintKind.CHECK, check_sql="parent_id >= 0"),
            ),
        ),
        if_not_exists=True,
    )


def test_add_column_primary_key_implies_not_null() -> None:
    op, _, _ = single("ALTER TABLE t ADD id int PRIMARY KEY")
    assert isinstance(op, AddColumn)
    assert op.column.not_null
    assert op.column.constraints == (InlineConstraint(ConstraintKind.PRIMARY_KEY),)


def test_drop_column() -> None:
    op, stmt, whole = single("ALTER TABLE t DROP COLUMN IF EXISTS a CASCADE")
    assert op == DropColumn(stmt, whole, T, "a", cascade=True, if_exists=True)
    op, stmt, whole = single("ALTER TABLE t DROP a")
    assert op == DropColumn(stmt, whole, T, "a")


def test_alter_column_type_keeps_the_using_expression() -> None:
    op, stmt, whole = single(
        "ALTER TABLE t ALTER COLUMN a SET DATA TYPE varchar(20) USING trim(a)::varchar(20)"
    )
    assert op == AlterColumnType(
        stmt, whole, T, "a", TypeName("varchar", modifiers=(20,)), "trim(a)::varchar(20)"
    )
    op, stmt, whole = single("ALTER TABLE t ALTER a TYPE bigint")
    assert op == AlterColumnType(stmt, whole, T, "a", TypeName("int8"))


def test_not_null_and_default_changes() -> None:
    op, stmt, whole = single("ALTER TABLE t ALTER COLUMN a SET NOT NULL")
    assert op == SetNotNull(stmt, whole, T, "a")
    op, stmt, whole = single("ALTER TABLE t ALTER COLUMN a DROP NOT NULL")
    assert op == DropNotNull(stmt, whole, T, "a")
    op, stmt, whole = single("ALTER TABLE t ALTER COLUMN a SET DEFAULT clock_timestamp()")
    expected = default("clock_timestamp()", Volatility.VOLATILE, "clock_timestamp")
    assert op == SetDefault(stmt, whole, T, "a", expected)
    op, stmt, whole = single("ALTER TABLE t ALTER COLUMN a DROP DEFAULT")
    assert op == DropDefault(stmt, whole, T, "a")


# --- ALTER TABLE: constraints ----------------------------------------------------------------


def test_add_foreign_key_not_valid() -> None:
    op, stmt, whole = single(
        "ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id, kind) "
        "REFERENCES app.parent (id, kind) ON DELETE CASCADE NOT VALID"
    )
    assert op == AddConstraint(
        stmt,
        whole,
        Name("child"),
        ConstraintKind.FOREIGN_KEY,
        name="child_parent_fk",
        columns=("parent_id", "kind"),
        not_valid=True,
        references=Name("parent", "app"),
        referenced_columns=("id", "kind"),
    )


def test_add_unique_and_primary_key_constraints() -> None:
    op, stmt, whole = single("ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b)")
    assert op == AddConstraint(
        stmt, whole, T, ConstraintKind.UNIQUE, name="t_b_key", columns=("b",)
    )
    op, stmt, whole = single("ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx")
    assert op == AddConstraint(
        stmt, whole, T, ConstraintKind.PRIMARY_KEY, name="t_pkey", using_index="t_id_idx"
    )


def test_add_exclude_and_not_null_constraints() -> None:
    op, stmt, whole = single("ALTER TABLE t ADD EXCLUDE USING gist (during WITH &&)")
    assert op == AddConstraint(stmt, whole, T, ConstraintKind.EXCLUDE, columns=("during",))
    op, stmt, whole = single("ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID")
    assert op == AddConstraint(
        stmt, whole, T, ConstraintKind.NOT_NULL, name="a_nn", columns=("a",), not_valid=True
    )


def test_check_that_is_exactly_is_not_null_names_its_column() -> None:
    op, stmt, whole = single(
        "ALTER TABLE t ADD CONSTRAINT a_not_null CHECK (a IS NOT NULL) NOT VALID"
    )
    assert op == AddConstraint(
        stmt,
        whole,
        T,
        ConstraintKind.CHECK,
        name="a_not_null",
        not_valid=True,
        check_sql="a IS NOT NULL",
        not_null_column="a",
    )
    for weaker in ("a IS NOT NULL AND b > 0", "a > 0", "a IS NULL", "(a, b) IS NOT NULL"):
        op, _, _ = single(f"ALTER TABLE t ADD CHECK ({weaker})")
        assert isinstance(op, AddConstraint)
        assert (op.check_sql, op.not_null_column) == (weaker, None)


def test_validate_and_drop_constraint() -> None:
    op, stmt, whole = single("ALTER TABLE t VALIDATE CONSTRAINT t_a_check")
    assert op == ValidateConstraint(stmt, whole, T, "t_a_check")
    op, stmt, whole = single("ALTER TABLE t DROP CONSTRAINT IF EXISTS t_a_check CASCADE")
    assert op == DropConstraint(stmt, whole, T, "t_a_check", if_exists=True, cascade=True)


# --- ALTER TABLE: rewrites, other actions, locations ---------------------------------------


@pytest.mark.parametrize(
    ("action", "how"),
    [
        ("SET LOGGED", "SET LOGGED"),
        ("SET UNLOGGED", "SET UNLOGGED"),
        ("SET TABLESPACE fast", "SET TABLESPACE"),
        ("SET ACCESS METHOD heap", "SET ACCESS METHOD"),
        ("ALTER COLUMN b SET EXPRESSION AS (a * 3)", "SET EXPRESSION"),
    ],
)
def test_rewriting_actions_are_table_rewrites(action: str, how: str) -> None:
    op, stmt, whole = single(f"ALTER TABLE t {action}")
    assert op == TableRewrite(stmt, whole, T, how)


@pytest.mark.parametrize(
    ("action", "label", "lock"),
    [
        ("ALTER COLUMN a SET STATISTICS 100", "SET STATISTICS", "SHARE UPDATE EXCLUSIVE"),
        (
            "ALTER COLUMN a SET (n_distinct = 10)",
            "SET (attribute_option)",
            "SHARE UPDATE EXCLUSIVE",
        ),
        ("SET (fillfactor = 70)", "SET (storage_parameter)", "SHARE UPDATE EXCLUSIVE"),
        ("RESET (fillfactor)", "RESET (storage_parameter)", "SHARE UPDATE EXCLUSIVE"),
        ("CLUSTER ON t_pkey", "CLUSTER ON", "SHARE UPDATE EXCLUSIVE"),
        ("SET WITHOUT CLUSTER", "SET WITHOUT CLUSTER", "SHARE UPDATE EXCLUSIVE"),
        ("ENABLE TRIGGER tr", "ENABLE TRIGGER", "SHARE ROW EXCLUSIVE"),
        ("DISABLE TRIGGER ALL", "DISABLE TRIGGER ALL", "SHARE ROW EXCLUSIVE"),
        ("DISABLE RULE r", "DISABLE RULE", "ACCESS EXCLUSIVE"),
        ("OWNER TO CURRENT_USER", "OWNER TO", "ACCESS EXCLUSIVE"),
        ("REPLICA IDENTITY FULL", "REPLICA IDENTITY", "ACCESS EXCLUSIVE"),
        ("ALTER COLUMN b SET STORAGE EXTERNAL", "SET STORAGE", "ACCESS EXCLUSIVE"),
        ("ENABLE ROW LEVEL SECURITY", "ENABLE ROW LEVEL SECURITY", "ACCESS EXCLUSIVE"),
        ("ALTER CONSTRAINT fk DEFERRABLE", "ALTER CONSTRAINT", "ACCESS EXCLUSIVE"),
        (
            "ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY",
            "ADD GENERATED AS IDENTITY",
            "ACCESS EXCLUSIVE",
        ),
        ("INHERIT parent", "INHERIT", "ACCESS EXCLUSIVE"),
    ],
)
def test_other_actions_carry_the_lock_they_take(action: str, label: str, lock: str) -> None:
    op, stmt, whole = single(f"ALTER TABLE t {action}")
    assert op == OtherAlterTable(stmt, whole, T, label, lock)


def test_partition_attach_and_detach_name_both_tables() -> None:
    op, stmt, whole = single("ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (2, 3)")
    assert op == AttachPartition(stmt, whole, Name("p"), Name("p2"))
    op, stmt, whole = single("ALTER INDEX p_idx ATTACH PARTITION s.p2_idx")
    assert op == AttachPartition(stmt, whole, Name("p_idx"), Name("p2_idx", "s"), index=True)
    op, stmt, whole = single("ALTER TABLE p DETACH PARTITION p1")
    assert op == DetachPartition(stmt, whole, Name("p"), Name("p1"))
    op, stmt, whole = single("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY")
    assert op == DetachPartition(stmt, whole, Name("p"), Name("p1"), concurrently=True)
    op, stmt, whole = single("ALTER TABLE p DETACH PARTITION p1 FINALIZE")
    assert op == DetachPartition(stmt, whole, Name("p"), Name("p1"), finalize=True)


def test_partitioned_tables_partitions_and_indexes_on_only_the_parent() -> None:
    op = single("CREATE TABLE p (id int) PARTITION BY LIST (id)")[0]
    assert isinstance(op, CreateTable) and op.partitioned and op.partition_of is None
    op = single("CREATE TABLE p1 PARTITION OF s.p FOR VALUES IN (1)")[0]
    assert isinstance(op, CreateTable) and op.partition_of == Name("p", "s")
    op = single("CREATE INDEX p_idx ON ONLY p (id)")[0]
    assert isinstance(op, CreateIndex) and op.only
    op = single("CREATE INDEX p_idx ON p (id)")[0]
    assert isinstance(op, CreateIndex) and not op.only


# Locks as pg_locks names them, weakest first.
_LOCK_ORDER = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]


def strongest_lock(connection, relation: str) -> str:
    """The strongest lock this session holds on `relation`, as pg_locks names it."""
    modes = connection.execute(
        "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = %s::regclass",
        (relation,),
    ).fetchall()
    return max((mode for (mode,) in modes), key=_LOCK_ORDER.index)


def test_other_action_locks_match_what_postgresql_takes(fresh_db: str) -> None:
    import psycopg

    actions = [
        "ALTER TABLE t ALTER COLUMN a SET STATISTICS 100",
        "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 10)",
        "ALTER TABLE t SET (fillfactor = 70)",
        "ALTER TABLE t CLUSTER ON t_pkey",
        "ALTER TABLE t SET WITHOUT CLUSTER",
        "ALTER TABLE t ENABLE TRIGGER tr",
        "ALTER TABLE t DISABLE TRIGGER ALL",
        "ALTER TABLE t DISABLE RULE r",
        "ALTER TABLE t OWNER TO CURRENT_USER",
        "ALTER TABLE t REPLICA IDENTITY FULL",
        "ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL",
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE t ALTER CONSTRAINT fk DEFERRABLE",
        "ALTER TABLE t ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY",
        "ALTER TABLE t INHERIT parent",
    ]
    mismatches = []
    with psycopg.connect(fresh_db) as connection:
        connection.execute(
            "CREATE TABLE parent (id int PRIMARY KEY);"
            "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL REFERENCES parent, b text);"
            "ALTER TABLE t RENAME CONSTRAINT t_a_fkey TO fk;"
            "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"
            "CREATE RULE r AS ON UPDATE TO t DO ALSO NOTHING;"
            "CREATE TABLE p (id int) PARTITION BY LIST (id);"
            "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);"
            "CREATE TABLE p2 (id int);"
        )
        connection.commit()
        for sql in actions:
            (op,) = parse_statement(statement(sql))
            assert isinstance(op, OtherAlterTable)
            connection.execute(sql)
            taken = strongest_lock(connection, str(op.table))
            if taken != op.lock.title().replace(" ", "") + "Lock":
                mismatches.append((sql, op.lock, taken))
            connection.rollback()
    assert mismatches == []


def test_each_action_of_a_multi_line_alter_table_is_located_at_its_own_text() -> None:
    sql = (
        "ALTER TABLE users\n"
        "  ADD COLUMN email_verified boolean NOT NULL DEFAULT false, -- new flag, (really)\n"
        "  ALTER COLUMN name TYPE text USING coalesce(name, ''),\n"
        "  ADD CONSTRAINT users_ref_fk FOREIGN KEY (ref, kind)\n"
        "    REFERENCES refs (id, kind) NOT VALID,\n"
        "  DROP COLUMN legacy"
    )
    operations = parse(sql, line=10, column=5)
    assert [type(op) for op in operations] == [
        AddColumn,
        AlterColumnType,
        AddConstraint,
        DropColumn,
    ]
    assert [op.location for op in operations] == [
        Location(11, 3, 11, 58),
        Location(12, 3, 12, 54),
        Location(13, 3, 14, 40),
        Location(15, 3, 15, 20),
    ]
    assert isinstance(operations[1], AlterColumnType)
    assert operations[1].using_sql == "coalesce(name, '')"


def test_actions_are_split_only_at_top_level_commas() -> None:
    sql = (
        "ALTER TABLE \"a,b\" ADD COLUMN x numeric(10,2) DEFAULT f('1,2', $$3,4$$, ARRAY[5,6]),"
        " /* , */ ALTER COLUMN y SET DEFAULT 'p,q'"
    )
    first, second = parse(sql)
    assert isinstance(first, AddColumn) and isinstance(second, SetDefault)
    assert first.column.default is not None
    assert first.column.default.sql == "f('1,2', $$3,4$$, ARRAY[5,6])"
    assert first.location == Location(1, 19, 1, 82)
    assert second.default.sql == "'p,q'"
    assert second.location == Location(1, 93, 1, 124)


def test_locations_count_characters_after_non_ascii_text() -> None:
    sql = "ALTER TABLE \"élève\" ADD COLUMN nom text DEFAULT 'é€', ALTER COLUMN note SET NOT NULL"
    first, second = parse(sql)
    assert isinstance(first, AddColumn)
    assert first.column.default == default("'é€'", Volatility.IMMUTABLE)
    assert first.location == Location(1, 21, 1, 52)
    assert second == SetNotNull(second.statement, Location(1, 55, 1, 84), Name("élève"), "note")


def test_single_action_alter_table_is_located_at_the_statement() -> None:
    op, _, whole = single("ALTER TABLE t ADD COLUMN a int")
    assert op.location == whole


def test_alter_index_actions_name_the_object_kind() -> None:
    op, stmt, whole = single("ALTER INDEX t_a_idx SET TABLESPACE fast")
    assert op == OtherAlterTable(
        stmt, whole, Name("t_a_idx"), "ALTER INDEX SET TABLESPACE", "ACCESS EXCLUSIVE"
    )


# --- renames -----------------------------------------------------------------------------------


def test_alembic_style_rename_without_column_keyword_is_a_column_rename() -> None:
    op, stmt, whole = single("ALTER TABLE users RENAME email TO email_address")
    assert op == RenameColumn(stmt, whole, Name("users"), "email", "email_address")


def test_renames_of_tables_columns_and_other_objects() -> None:
    cases: list[tuple[str, type, tuple[object, ...]]] = [
        ("ALTER TABLE s.t RENAME COLUMN a TO b", RenameColumn, (Name("t", "s"), "a", "b")),
        ("ALTER TABLE s.t RENAME TO u", RenameTable, (Name("t", "s"), "u")),
        ("ALTER INDEX s.i RENAME TO j", RenameObject, ("index", Name("i", "s"), "j")),
        ("ALTER SEQUENCE q RENAME TO r", RenameObject, ("sequence", Name("q"), "r")),
        ("ALTER VIEW v RENAME TO w", RenameObject, ("view", Name("v"), "w")),
        (
            "ALTER TYPE s.mood RENAME TO feeling",
            RenameObject,
            ("type", Name("mood", "s"), "feeling"),
        ),
        ("ALTER SCHEMA a RENAME TO b", RenameObject, ("schema", Name("a"), "b")),
        ("ALTER FUNCTION f(int) RENAME TO g", RenameObject, ("function", Name("f"), "g")),
        (
            "ALTER TABLE t RENAME CONSTRAINT c TO d",
            RenameObject,
            ("constraint", Name("c"), "d", T),
        ),
        ("ALTER TRIGGER tr ON t RENAME TO tr2", RenameObject, ("trigger", Name("tr"), "tr2", T)),
    ]
    for sql, kind, fields in cases:
        op, stmt, whole = single(sql)
        assert op == kind(stmt, whole, *fields), sql


# --- indexes -----------------------------------------------------------------------------------


def test_create_index_reads_columns_expressions_predicate_and_method() -> None:
    op, stmt, whole = single(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON app.users "
        "USING btree (tenant_id, lower(email) text_pattern_ops, (created_at::date) DESC NULLS LAST)"
        " INCLUDE (name) WHERE deleted_at IS NULL AND (active)"
    )
    assert op == CreateIndex(
        stmt,
        whole,
        table=Name("users", "app"),
        name=Name("users_email_idx", "app"),
        columns=("tenant_id", "lower(email)", "created_at::date"),
        unique=True,
        concurrently=True,
        if_not_exists=True,
        where_sql="deleted_at IS NULL AND (active)",
    )


def test_create_index_without_name() -> None:
    op, stmt, whole = single("CREATE INDEX ON t USING gin (doc)")
    assert op == CreateIndex(stmt, whole, T, None, columns=("doc",), method="gin")


def test_drop_index_and_reindex() -> None:
    op, stmt, whole = single("DROP INDEX CONCURRENTLY IF EXISTS a_idx, s.b_idx CASCADE")
    assert op == DropIndex(
        stmt,
        whole,
        (Name("a_idx"), Name("b_idx", "s")),
        concurrently=True,
        if_exists=True,
        cascade=True,
    )
    op, stmt, whole = single("DROP INDEX a_idx")
    assert op == DropIndex(stmt, whole, (Name("a_idx"),))
    op, stmt, whole = single("REINDEX INDEX CONCURRENTLY s.a_idx")
    assert op == Reindex(stmt, whole, "index", Name("a_idx", "s"), concurrently=True)
    op, stmt, whole = single("REINDEX (VERBOSE) TABLE t")
    assert op == Reindex(stmt, whole, "table", T)
    op, stmt, whole = single("REINDEX SCHEMA app")
    assert op == Reindex(stmt, whole, "schema", Name("app"))


# --- drops, truncate, data --------------------------------------------------------------------


def test_drop_table_and_other_objects() -> None:
    op, stmt, whole = single("DROP TABLE IF EXISTS a, s.b CASCADE")
    assert op == DropTable(stmt, whole, (Name("a"), Name("b", "s")), if_exists=True, cascade=True)
    cases: list[tuple[str, str, tuple[Name, ...], bool]] = [
        ("DROP VIEW v", "view", (Name("v"),), False),
        ("DROP MATERIALIZED VIEW s.mv", "materialized view", (Name("mv", "s"),), False),
        ("DROP TYPE s.mood CASCADE", "type", (Name("mood", "s"),), True),
        ("DROP FUNCTION f(int), g", "function", (Name("f"), Name("g")), False),
        ("DROP SCHEMA app", "schema", (Name("app"),), False),
        ("DROP SEQUENCE q", "sequence", (Name("q"),), False),
        ("DROP EXTENSION citext", "extension", (Name("citext"),), False),
    ]
    for sql, kind, names, cascade in cases:
        op, stmt, whole = single(sql)
        assert op == DropObject(stmt, whole, kind, names, cascade), sql
    op, stmt, whole = single("DROP TRIGGER tr ON s.t")
    assert op == DropObject(stmt, whole, "trigger", (Name("tr"),), table=Name("t", "s"))


def test_truncate() -> None:
    op, stmt, whole = single("TRUNCATE TABLE a, s.b RESTART IDENTITY CASCADE")
    assert op == Truncate(stmt, whole, (Name("a"), Name("b", "s")), cascade=True)


def test_updates_deletes_and_insert_select_are_data_changes() -> None:
    op, stmt, whole = single("UPDATE s.t SET a = 0 WHERE a IS NULL")
    assert op == DataChange(stmt, whole, "update", Name("t", "s"), has_where=True)
    op, stmt, whole = single("UPDATE t SET a = 0")
    assert op == DataChange(stmt, whole, "update", T)
    op, stmt, whole = single("DELETE FROM t")
    assert op == DataChange(stmt, whole, "delete", T)
    op, stmt, whole = single("INSERT INTO t (a) SELECT b FROM u WHERE b > 0")
    assert op == DataChange(stmt, whole, "insert", T, has_where=True, reads=(Name("u"),))
    op, stmt, whole = single("INSERT INTO t (a) VALUES (1), (2)")
    assert op == Unknown(stmt, whole, "InsertStmt", (T,))


def test_a_data_change_names_the_tables_it_reads_but_not_its_own_ctes() -> None:
    op, _, _ = single(
        "WITH recent AS (SELECT * FROM s.orders WHERE id > (SELECT max(id) FROM t)) "
        "UPDATE t SET a = r.a FROM recent r JOIN users u ON u.id = r.user_id "
        "WHERE EXISTS (SELECT 1 FROM users)"
    )
    assert isinstance(op, DataChange)
    assert sorted(op.reads) == [Name("orders", "s"), T, Name("users")]
    op, _, _ = single("DELETE FROM t USING u WHERE t.id = u.id")
    assert isinstance(op, DataChange) and op.reads == (Name("u"),)


def test_vacuum_full_and_cluster_rewrite_tables() -> None:
    operations = parse("VACUUM (FULL, ANALYZE) a, b")
    stmt = operations[0].statement
    assert operations == [
        TableRewrite(stmt, stmt.location, Name("a"), "VACUUM FULL"),
        TableRewrite(stmt, stmt.location, Name("b"), "VACUUM FULL"),
    ]
    op, stmt, whole = single("VACUUM FULL")
    assert op == TableRewrite(stmt, whole, None, "VACUUM FULL")
    op, stmt, whole = single("CLUSTER t USING t_pkey")
    assert op == TableRewrite(stmt, whole, T, "CLUSTER")
    op, stmt, whole = single("VACUUM (FULL false) t")
    assert op == Unknown(stmt, whole, "VacuumStmt")
    op, stmt, whole = single("VACUUM ANALYZE t")
    assert op == Unknown(stmt, whole, "VacuumStmt")


def test_lock_table() -> None:
    op, stmt, whole = single("LOCK TABLE a, b IN SHARE ROW EXCLUSIVE MODE")
    assert op == LockTable(stmt, whole, (Name("a"), Name("b")), "SHARE ROW EXCLUSIVE")
    op, stmt, whole = single("LOCK t")
    assert op == LockTable(stmt, whole, (T,), "ACCESS EXCLUSIVE")


# --- types, settings, transactions, other objects --------------------------------------------


def test_alter_enum_add_and_rename_value() -> None:
    op, stmt, whole = single("ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok'")
    assert op == AlterEnum(stmt, whole, Name("mood", "s"), AlterEnumAction.ADD_VALUE, "meh")
    op, stmt, whole = single("ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'")
    assert op == AlterEnum(stmt, whole, Name("mood"), AlterEnumAction.RENAME_VALUE, "ok", "fine")


@pytest.mark.parametrize(
    ("sql", "name", "value", "local"),
    [
        ("SET lock_timeout = '2s'", "lock_timeout", "2s", False),
        ("SET lock_timeout TO '2s'", "lock_timeout", "2s", False),
        ("SET LOCAL lock_timeout = 2000", "lock_timeout", "2000", True),
        ("SET SESSION Statement_Timeout TO '5min'", "statement_timeout", "5min", False),
        ("SET search_path = app, public", "search_path", "app, public", False),
        ("SET TIME ZONE 'UTC'", "timezone", "UTC", False),
        ("SET lock_timeout TO DEFAULT", "lock_timeout", None, False),
        ("RESET lock_timeout", "lock_timeout", None, False),
        ("RESET ALL", "all", None, False),
        ("SELECT set_config('lock_timeout', '3s', true)", "lock_timeout", "3s", True),
        ("SELECT pg_catalog.set_config('lock_timeout', '3s', false)", "lock_timeout", "3s", False),
    ],
)
def test_settings(sql: str, name: str, value: str | None, local: bool) -> None:
    op, stmt, whole = single(sql)
    assert op == SetGuc(stmt, whole, name, value, local)


def test_transaction_statements() -> None:
    for sql, action in [
        ("BEGIN", TransactionAction.BEGIN),
        ("START TRANSACTION ISOLATION LEVEL SERIALIZABLE", TransactionAction.BEGIN),
        ("COMMIT", TransactionAction.COMMIT),
        ("END", TransactionAction.COMMIT),
        ("ROLLBACK", TransactionAction.ROLLBACK),
        ("PREPARE TRANSACTION 'x'", TransactionAction.PREPARE),
    ]:
        op, stmt, whole = single(sql)
        assert op == Transaction(stmt, whole, action), sql
    for sql, action in [
        ("SAVEPOINT s1", TransactionAction.SAVEPOINT),
        ("RELEASE SAVEPOINT s1", TransactionAction.RELEASE),
        ("ROLLBACK TO SAVEPOINT s1", TransactionAction.ROLLBACK_TO),
    ]:
        op, stmt, whole = single(sql)
        assert op == Transaction(stmt, whole, action, savepoint="s1"), sql
    op, stmt, whole = single("COMMIT PREPARED 'x'")
    assert op == Unknown(stmt, whole, "TransactionStmt")


def test_other_created_objects() -> None:
    cases: list[tuple[str, str, Name, Name | None]] = [
        ("CREATE TYPE s.mood AS ENUM ('ok', 'bad')", "type", Name("mood", "s"), None),
        ("CREATE TYPE pair AS (a int, b int)", "type", Name("pair"), None),
        ("CREATE TYPE span AS RANGE (subtype = int4)", "type", Name("span"), None),
        ("CREATE SEQUENCE IF NOT EXISTS s.q", "sequence", Name("q", "s"), None),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "view", Name("v"), None),
        ("CREATE MATERIALIZED VIEW mv AS SELECT 1", "materialized view", Name("mv"), None),
        (
            "CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
            "function",
            Name("f", "s"),
            None,
        ),
        ("CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'", "procedure", Name("p"), None),
        (
            "CREATE TRIGGER tr BEFORE UPDATE ON s.t FOR EACH ROW EXECUTE FUNCTION f()",
            "trigger",
            Name("tr"),
            Name("t", "s"),
        ),
        ("CREATE SCHEMA IF NOT EXISTS app", "schema", Name("app"), None),
        ("CREATE EXTENSION IF NOT EXISTS citext", "extension", Name("citext"), None),
        ("CREATE DOMAIN posint AS int CHECK (VALUE > 0)", "domain", Name("posint"), None),
        ("CREATE POLICY own ON t USING (true)", "policy", Name("own"), T),
        ("CREATE RULE r AS ON INSERT TO t DO NOTHING", "rule", Name("r"), T),
    ]
    for sql, kind, name, table in cases:
        op, stmt, whole = single(sql)
        declared = Volatility.VOLATILE if kind == "function" else None
        assert op == CreateObject(stmt, whole, kind, name, table, declared), sql


def test_alter_domain_add_constraint() -> None:
    op, stmt, whole = single("ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID")
    assert op == AddDomainConstraint(
        stmt,
        whole,
        Name("posint"),
        ConstraintKind.CHECK,
        "pos",
        not_valid=True,
        check_sql="VALUE > 0",
    )
    op, stmt, whole = single("ALTER DOMAIN posint VALIDATE CONSTRAINT pos")
    assert op == Unknown(stmt, whole, "AlterDomainStmt")


def test_statements_without_an_operation_are_unknown_and_named_by_node() -> None:
    for sql, node in [
        ("DO $$ BEGIN PERFORM 1; END $$", "DoStmt"),
        ("COMMENT ON COLUMN t.a IS 'x'", "CommentStmt"),
        ("GRANT SELECT ON t TO app", "GrantStmt"),
        ("SELECT 1", "SelectStmt"),
        ("ANALYZE t", "VacuumStmt"),
    ]:
        op, _, _ = single(sql)
        assert isinstance(op, Unknown) and op.node == node, sql


def test_refresh_materialized_view_says_whether_it_is_concurrent() -> None:
    op, stmt, whole = single("REFRESH MATERIALIZED VIEW s.mv")
    assert op == RefreshMaterializedView(stmt, whole, Name("mv", "s"), concurrently=False)
    op, stmt, whole = single("REFRESH MATERIALIZED VIEW CONCURRENTLY mv WITH DATA")
    assert op == RefreshMaterializedView(stmt, whole, Name("mv"), concurrently=True)


# --- volatility --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "volatility", "culprit"),
    [
        ("now()", Volatility.STABLE, None),
        ("current_timestamp", Volatility.STABLE, None),
        ("CURRENT_DATE", Volatility.STABLE, None),
        ("gen_random_uuid()", Volatility.VOLATILE, "gen_random_uuid"),
        ("random()", Volatility.VOLATILE, "random"),
        ("clock_timestamp()", Volatility.VOLATILE, "clock_timestamp"),
        ("nextval('s')", Volatility.VOLATILE, "nextval"),
        ("nextval('s'::regclass)", Volatility.VOLATILE, "nextval"),
        ("'x'::text", Volatility.IMMUTABLE, None),
        ("0", Volatility.IMMUTABLE, None),
        ("lower('A')", Volatility.IMMUTABLE, None),
        ("pg_catalog.now()", Volatility.STABLE, None),
        ("make_code()", Volatility.UNKNOWN, "make_code"),
        ("app.now()", Volatility.UNKNOWN, "app.now"),
        ("lower(make_code()) || random()::text", Volatility.VOLATILE, "random"),
        ("coalesce(NULL, (random() * 10)::int)", Volatility.VOLATILE, "random"),
        ("ARRAY[1, 2]", Volatility.IMMUTABLE, None),
    ],
)
def test_default_volatility_is_that_of_the_worst_function_called(
    expression: str, volatility: Volatility, culprit: str | None
) -> None:
    op, _, _ = single(f"ALTER TABLE t ADD COLUMN c text DEFAULT {expression}")
    assert isinstance(op, AddColumn)
    default = op.column.default
    assert (default.sql, default.volatility, default.volatile_function) == (
        expression,
        volatility,
        culprit,
    )


def test_a_default_lists_the_functions_not_built_in_for_the_run_to_resolve() -> None:
    op, _, _ = single(
        "ALTER TABLE t ADD COLUMN c text DEFAULT lower(app.code(make_code())) || now()"
    )
    assert isinstance(op, AddColumn)
    assert op.column.default == ColumnDefault(
        "lower(app.code(make_code())) || now()",
        Volatility.UNKNOWN,
        "app.code",
        ("app.code", "make_code"),
        Volatility.STABLE,
    )


def test_a_created_function_carries_its_declared_volatility() -> None:
    body = "RETURNS int LANGUAGE sql AS 'SELECT 1'"
    created = [
        single(f"CREATE {sql}")[0]
        for sql in (
            f"FUNCTION s.f() {body} IMMUTABLE",
            f"OR REPLACE FUNCTION f() {body}",
            "PROCEDURE p() LANGUAGE sql AS 'SELECT 1'",
        )
    ]
    assert [(op.name, op.volatility, op.replaces) for op in created] == [
        (Name("f", "s"), Volatility.IMMUTABLE, False),
        (Name("f"), Volatility.VOLATILE, True),
        (Name("p"), None, False),
    ]


def test_builtin_functions_come_from_pg_proc() -> None:
    assert builtin_volatility("now") is Volatility.STABLE
    assert builtin_volatility("nextval") is Volatility.VOLATILE
    assert builtin_volatility("lower") is Volatility.IMMUTABLE
    assert builtin_volatility("no_such_function") is None


# --- syntax errors, locations, robustness ----------------------------------------------------


def test_syntax_error_is_located_at_the_offending_token() -> None:
    sql = "ALTER TABLE t\n  ADD COLUMN a int,\n  ADD COLUMN b int DEFALT 1"
    op, stmt, _ = single(sql)
    assert op == SyntaxErrorOp(stmt, Location(3, 20, 3, 20), 'syntax error at or near "DEFALT"')


def test_syntax_error_location_counts_characters_after_non_ascii_text() -> None:
    sql = "UPDATE t SET name = 'Zoë – “quoted”' WHER id = 1"
    op, _, _ = single(sql)
    assert isinstance(op, SyntaxErrorOp)
    assert op.location == Location(1, 38, 1, 38)
    assert sql[op.location.column - 1 :].startswith("WHER")


def test_text_with_a_lone_surrogate_is_a_syntax_error_at_that_character() -> None:
    op, _, _ = single("SELECT 'a\udcff'")
    assert isinstance(op, SyntaxErrorOp)
    assert op.location == Location(1, 10, 1, 10)
    assert "surrogates not allowed" in op.message


def test_syntax_error_at_end_of_input_covers_the_statement() -> None:
    op, stmt, whole = single("ALTER TABLE t ADD COLUMN")
    assert op == SyntaxErrorOp(stmt, whole, "syntax error at end of input")


def test_statement_starting_mid_line_shifts_first_line_columns_only() -> None:
    first, second = parse("ALTER TABLE t ADD a int,\n  ADD b int", line=4, column=9)
    assert first.location == Location(4, 23, 4, 31)
    assert second.location == Location(5, 3, 5, 11)


def test_rendered_sql_of_a_python_revision_stays_at_its_statement_location() -> None:
    stmt = statement(
        "ALTER TABLE t ADD a int, ADD b int", line=12, column=5, path="versions/1_add.py"
    )
    operations = parse_statement(stmt)
    assert [op.location for op in operations] == [stmt.location, stmt.location]
    stmt = statement("ALTER TABLE t ADD", line=12, column=5, path="versions/1_add.py")
    assert parse_statement(stmt)[0].location == stmt.location


def test_several_statements_in_one_text_are_each_located() -> None:
    operations = parse("SET lock_timeout = '1s';\n  /* then */ DROP TABLE t")
    assert [type(op) for op in operations] == [SetGuc, DropTable]
    assert [op.location for op in operations] == [Location(1, 1, 1, 23), Location(2, 14, 2, 25)]


def test_actions_of_an_alter_table_followed_by_another_statement_stop_at_its_end() -> None:
    first, second, third = parse("ALTER TABLE t ADD a int DEFAULT 1, ADD b int; UPDATE t SET a = 2")
    assert isinstance(first, AddColumn) and isinstance(second, AddColumn)
    assert first.column.default == default("1", Volatility.IMMUTABLE)
    assert (first.location, second.location) == (Location(1, 15, 1, 33), Location(1, 36, 1, 44))
    assert isinstance(third, DataChange) and third.location == Location(1, 47, 1, 64)


def test_comments_only_yield_no_operations() -> None:
    assert parse("-- nothing here") == []


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    operations = parse_statement(statement(text))
    assert all(isinstance(op, Operation) for op in operations)


_SQL_PIECES = st.sampled_from(
    [
        "ALTER TABLE",
        "t",
        "ADD",
        "COLUMN",
        "a",
        "int",
        "DEFAULT",
        "now()",
        ",",
        "(",
        ")",
        "CHECK",
        "NOT",
        "NULL",
        "'é'",
        "CREATE",
        "INDEX",
        "ON",
        "USING",
        "WHERE",
        "DROP",
        "RENAME",
        "TO",
        "TYPE",
        ";",
        "$$x$$",
        "--c\n",
        "/* c */",
        "\n",
        "é",
        "[",
        "]",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SQL_PIECES, max_size=30))
def test_sql_like_text_never_raises(pieces: list[str]) -> None:
    operations = parse_statement(statement(" ".join(pieces)))
    for op in operations:
        assert isinstance(op, Operation)
        assert op.location.line >= 1 and op.location.column >= 1


def test_operations_are_values_of_their_own_class() -> None:
    statement = Statement("DROP TABLE t", "m.sql", Location(1, 1, 1, 12), 0)
    first = DropTable(statement, statement.location, (Name("t"),))
    same = DropTable(statement, statement.location, (Name("t"),))
    assert first == same and hash(first) == hash(same) and first is not same
    assert first != DropTable(statement, statement.location, (Name("u"),))
    # Same fields, other class: never equal, as dataclass(eq=True) generates it.
    assert first != Truncate(statement, statement.location, (Name("t"),))
    assert len({first, same}) == 1
    assert repr(first).startswith("DropTable(statement=Statement(")
    assert repr(first).endswith(
        "tables=(Name(name='t', schema=None),), if_exists=False, cascade=False)"
    )
