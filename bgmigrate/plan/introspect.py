"""Read the schema of a live database into a `Schema`, read-only.

One read-only transaction with an empty `search_path`, so that every definition PostgreSQL
prints (`pg_get_indexdef`, `pg_get_viewdef`, defaults, types) names its objects with their
schema and means the same thing wherever the plan runs it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from bgmigrate.plan.identifiers import QualifiedName
from bgmigrate.plan.schema import (
    CONSTRAINT_KINDS,
    Column,
    ColumnDependent,
    Constraint,
    Grant,
    Index,
    Schema,
    Table,
    Trigger,
    View,
)

__all__ = ["SchemaSourceError", "introspect", "redact_dsn"]

_SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast', 'bgmigrate')"
_USER_NAMESPACE = (
    f"n.nspname NOT IN {_SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
    "AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'"
)

_TABLES = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind = 'p'
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {_USER_NAMESPACE}
"""

_RELATIONS = f"""
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_NAMESPACE}
"""

_TYPES = """
SELECT n.nspname, t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype <> 'p' AND t.typisdefined
"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> t.typcollation THEN
           quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
       col_description(a.attrelid, a.attnum)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY(%(tables)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

# Sequences a column owns: `a` (serial, OWNED BY) and `i` (identity) dependencies.
_OWNED_SEQUENCES = """
SELECT d.refobjid, a.attname, n.nspname, s.relname
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND d.refobjid = ANY(%(tables)s)
"""

_INDEXES = """
SELECT i.indrelid, n.nspname, ic.relname, pg_get_indexdef(i.indexrelid),
       i.indisunique, i.indisprimary, i.indisvalid, i.indpred IS NOT NULL,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, position)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.position <= i.indnkeyatts ORDER BY k.position),
       ARRAY(SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND (
                 a.attnum = ANY(i.indkey::int2[])
                 OR EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                              AND d.refclassid = 'pg_class'::regclass
                              AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum))),
       con.conname
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
     AND con.contype IN ('p', 'u', 'x')
WHERE i.indrelid = ANY(%(tables)s)
ORDER BY i.indrelid, ic.relname
"""

_CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype, pg_get_constraintdef(con.oid), con.convalidated,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, position)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.position),
       con.confrelid,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, position)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.position),
       ixn.nspname, ix.relname
FROM pg_constraint con
LEFT JOIN pg_class ix ON ix.oid = con.conindid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_namespace ixn ON ixn.oid = ix.relnamespace
WHERE con.contype IN ('c', 'f', 'p', 'u', 'x')
  AND (con.conrelid = ANY(%(tables)s) OR con.confrelid = ANY(%(tables)s))
  AND con.conparentid = 0
ORDER BY con.conrelid, con.conname
"""

# A view's rewrite rule depends on each column it reads (refobjsubid > 0) and on each
# relation as a whole; both are collected so views over views are found too.
_VIEWS = f"""
SELECT DISTINCT v.oid, n.nspname, v.relname, v.relkind = 'm', pg_get_viewdef(v.oid),
       d.refobjid, a.attname
FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class
JOIN pg_namespace n ON n.oid = v.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     AND d.refobjsubid > 0
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid <> v.oid AND v.relkind IN ('v', 'm') AND {_USER_NAMESPACE}
"""

_VIEW_OPTIONS = """
SELECT c.oid, coalesce(c.reloptions, '{}') FROM pg_class c WHERE c.oid = ANY(%(oids)s)
"""

# Privileges other than the owner's own, per relation.
_GRANTS = """
SELECT c.oid, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
       a.privilege_type, a.is_grantable
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = ANY(%(oids)s) AND a.grantee <> c.relowner
ORDER BY 1, 2, 3
"""

_RELATION_NAMES = """
SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY(%(oids)s)
"""

_REFERENCING_TABLES = """
SELECT DISTINCT conrelid FROM pg_constraint WHERE confrelid = ANY(%(tables)s)
"""

_TRIGGERS = """
SELECT t.tgrelid, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled <> 'D',
       ARRAY(SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = t.tgrelid AND a.attnum > 0 AND (
                 a.attnum = ANY(t.tgattr::int2[])
                 OR EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                              AND d.refclassid = 'pg_class'::regclass
                              AND d.refobjid = t.tgrelid AND d.refobjsubid = a.attnum))
             ORDER BY a.attnum)
FROM pg_trigger t
WHERE t.tgrelid = ANY(%(tables)s) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname
"""

# Other objects on a column: not its indexes, sequences (pg_class), constraints, views
# (pg_rewrite), triggers, or its own default, which the planner handles one by one.
_DEPENDENTS = """
SELECT d.refobjid, a.attname, pg_describe_object(d.classid, d.objid, d.objsubid),
       d.deptype = 'a'
FROM pg_depend d
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%(tables)s)
  AND d.refobjsubid > 0 AND d.deptype IN ('n', 'a')
  AND d.classid NOT IN ('pg_class'::regclass, 'pg_constraint'::regclass,
                        'pg_rewrite'::regclass, 'pg_trigger'::regclass)
  AND (ad.oid IS NULL OR ad.adnum <> d.refobjsubid)
ORDER BY 1, 2, 3
"""


class SchemaSourceError(RuntimeError):
    """The schema could not be read: an unreachable database, a migration that fails to replay."""

    exit_code = 2


def redact_dsn(dsn: str) -> str:
    """`dsn` without its password, for messages."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        return "the given DSN"
    params.pop("password", None)
    return make_conninfo(**params)


def introspect(dsn: str, *, source: str | None = None) -> Schema:
    """Read every user table of the database at `dsn` in one read-only transaction."""
    import psycopg

    label = source or redact_dsn(dsn)
    try:
        with psycopg.connect(dsn, connect_timeout=10) as connection:
            connection.read_only = True
            with connection.transaction():
                connection.execute("SELECT set_config('search_path', '', true)")
                return _read(connection, label)
    except psycopg.Error as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SchemaSourceError(f"cannot read the schema from {label}: {message}") from None


def _read(connection: Any, source: str) -> Schema:
    def rows(query: str, **params: object) -> list[tuple[Any, ...]]:
        return connection.execute(query, params or None).fetchall()

    server_version = int(rows("SELECT current_setting('server_version_num')")[0][0])
    names: dict[int, QualifiedName] = {}
    partitioned: dict[int, bool] = {}
    for oid, schema, name, is_partitioned in rows(_TABLES):
        names[oid] = QualifiedName(schema, name)
        partitioned[oid] = is_partitioned
    tables = list(names)

    owned: dict[tuple[int, str], QualifiedName] = {}
    for table, column, schema, sequence in rows(_OWNED_SEQUENCES, tables=tables):
        owned[(table, column)] = QualifiedName(schema, sequence)

    columns: dict[int, list[Column]] = defaultdict(list)
    for table, name, type_, not_null, default, identity, generated, collation, comment in rows(
        _COLUMNS, tables=tables
    ):
        columns[table].append(
            Column(
                name=name,
                type=type_,
                not_null=not_null,
                default=default,
                identity=identity,
                generated=generated,
                owned_sequence=owned.get((table, name)),
                collation=collation,
                comment=comment,
            )
        )

    indexes: dict[int, list[Index]] = defaultdict(list)
    primary_keys: dict[int, tuple[str, ...]] = {}
    for row in rows(_INDEXES, tables=tables):
        table, schema, name, definition, unique, primary, valid, partial, keys, uses, con = row
        index = Index(
            name=QualifiedName(schema, name),
            definition=definition,
            columns=tuple(keys),
            uses=frozenset(uses),
            unique=unique,
            primary=primary,
            valid=valid,
            partial=partial,
            constraint=con,
        )
        indexes[table].append(index)
        if primary:
            primary_keys[table] = tuple(key for key in keys if key is not None)

    constraints: dict[int, list[Constraint]] = defaultdict(list)
    referencing: dict[int, list[Constraint]] = defaultdict(list)
    referencing_tables = {oid for (oid,) in rows(_REFERENCING_TABLES, tables=tables)}
    names.update(_relation_names(rows, referencing_tables - set(names)))
    for row in rows(_CONSTRAINTS, tables=tables):
        table, name, kind, definition, validated, keys, ftable, fkeys, ix_schema, ix_name = row
        constraint = Constraint(
            name=name,
            kind=CONSTRAINT_KINDS[kind],
            table=names[table],
            definition=definition,
            columns=tuple(keys),
            validated=validated,
            referenced_table=names.get(ftable) if ftable else None,
            referenced_columns=tuple(fkeys),
            index=QualifiedName(ix_schema, ix_name) if ix_name else None,
        )
        if table in partitioned:  # a table of this schema, not only a referencing one
            constraints[table].append(constraint)
        if ftable in partitioned:
            referencing[ftable].append(constraint)

    view_oids, views = _views(rows)
    grants = _grants(rows, [*tables, *view_oids])
    views = {
        name: replace(views[name], grants=grants.get(oid, ())) for oid, name in view_oids.items()
    }
    views_by_table: dict[QualifiedName, list[View]] = defaultdict(list)
    for view in views.values():
        for relation in view.uses:
            views_by_table[relation].append(view)

    dependents: dict[int, list[ColumnDependent]] = defaultdict(list)
    for table, column, description, automatic in rows(_DEPENDENTS, tables=tables):
        dependents[table].append(ColumnDependent(column, description, automatic))

    triggers: dict[int, list[Trigger]] = defaultdict(list)
    for table, name, definition, enabled, trigger_columns in rows(_TRIGGERS, tables=tables):
        triggers[table].append(Trigger(name, definition, tuple(trigger_columns), enabled))

    result = {
        names[oid]: Table(
            name=names[oid],
            columns=tuple(columns[oid]),
            primary_key=primary_keys.get(oid, ()),
            indexes=tuple(indexes[oid]),
            constraints=tuple(constraints[oid]),
            referencing_foreign_keys=tuple(referencing[oid]),
            views=tuple(sorted(views_by_table[names[oid]], key=lambda view: view.name)),
            triggers=tuple(triggers[oid]),
            dependents=tuple(dependents[oid]),
            partitioned=partitioned[oid],
            grants=grants.get(oid, ()),
        )
        for oid in tables
    }
    relations = frozenset(QualifiedName(schema, name) for schema, name in rows(_RELATIONS))
    return Schema(
        tables=result,
        views=views,
        relations=relations,
        server_version=server_version,
        source=source,
        types=frozenset(QualifiedName(schema, name) for schema, name in rows(_TYPES)),
    )


def _relation_names(rows: Any, oids: set[int]) -> dict[int, QualifiedName]:
    if not oids:
        return {}
    return {
        oid: QualifiedName(schema, name)
        for oid, schema, name in rows(_RELATION_NAMES, oids=sorted(oids))
    }


def _grants(rows: Any, oids: list[int]) -> dict[int, tuple[Grant, ...]]:
    found: dict[int, list[Grant]] = defaultdict(list)
    for oid, grantee, privilege, grantable in rows(_GRANTS, oids=oids):
        found[oid].append(Grant(grantee, privilege, grantable))
    return {oid: tuple(grants) for oid, grants in found.items()}


def _views(rows: Any) -> tuple[dict[int, QualifiedName], dict[QualifiedName, View]]:
    """The views reading any relation, by oid and by name."""
    found = rows(_VIEWS)
    view_names = {oid: QualifiedName(schema, name) for oid, schema, name, *_ in found}
    referenced = _relation_names(rows, {row[5] for row in found} - set(view_names))
    referenced.update(view_names)
    uses: dict[int, dict[QualifiedName, set[str]]] = defaultdict(lambda: defaultdict(set))
    details: dict[int, tuple[bool, str]] = {}
    dependents: dict[QualifiedName, list[QualifiedName]] = defaultdict(list)
    for oid, _schema, _name, materialized, definition, relation, column in found:
        details[oid] = (materialized, definition)
        columns = uses[oid][referenced[relation]]
        if column is not None:
            columns.add(column)
        if relation in view_names and view_names[oid] not in dependents[view_names[relation]]:
            dependents[view_names[relation]].append(view_names[oid])
    options = dict(rows(_VIEW_OPTIONS, oids=sorted(details))) if details else {}
    return view_names, {
        view_names[oid]: View(
            name=view_names[oid],
            definition=details[oid][1].strip().rstrip(";"),
            materialized=details[oid][0],
            uses={relation: frozenset(columns) for relation, columns in uses[oid].items()},
            dependents=tuple(sorted(dependents[view_names[oid]])),
            options=tuple(options.get(oid, ())),
        )
        for oid in details
    }
