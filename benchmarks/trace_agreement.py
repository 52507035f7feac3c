"""Prove the checker's static verdicts on PostgreSQL: trace every rule example and compare.

Every must-flag and must-pass SQL example of every lock, rewrite and compatibility rule (and
the bundled fixtures' proposed migrations; then PostgreSQL's regression corpus, where those
rules judge it: `trace_regress.py` says how) runs on the embedded PostgreSQL through
`bgmigrate trace`'s machinery, after its `before` SQL. Tables and columns an example takes
for granted (`ALTER TABLE users …` with no `before`) are created for it, with rows, before the
trace, so that every relation it touches already existed, as in production.

Then, statement by statement:

- a statement the checker flags must do what its message says: take the lock it names (or a
  stronger one) on an existing relation, rewrite a table when it says rewrite, read one in full
  when it says scan;
- a statement the checker lets pass must neither rewrite an existing table nor read one in
  full while holding a lock that blocks the app's reads or writes on it.

A disagreement is listed unless docs/rules.md ("Verdicts proven by trace") names it with its
reason. Examples that target another PostgreSQL version than the server's, Alembic examples
and compatibility verdicts that make no claim about locks, rewrites or scans are counted
apart: a trace cannot judge them by itself.

    python benchmarks/trace_agreement.py            # trace, compare, print
    python benchmarks/trace_agreement.py --record   # also rewrite its section of RESULTS.md
    python benchmarks/trace_agreement.py --sdist pglast-8.8.tar.gz   # reuse a downloaded sdist
    python benchmarks/trace_agreement.py --no-corpus                 # the examples only
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from results_file import machine_lines, write_section

from bgmigrate.check.api import check_sql
from bgmigrate.check.finding import Category, Finding
from bgmigrate.check.rule import Example
from bgmigrate.embedded import start_embedded_postgres
from bgmigrate.parse.operations import (
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Name,
    Operation,
    RenameTable,
)
from bgmigrate.parse.postgres import parse_statement
from bgmigrate.rules import CATALOG
from bgmigrate.source.sql import read_sql_unit, split_sql
from bgmigrate.trace import AppQuery, StatementTrace, TraceResult, trace_on
from bgmigrate.trace.model import LOCK_STRENGTH

if TYPE_CHECKING:
    from trace_regress import CorpusTally

REPO = Path(__file__).resolve().parents[1]
DOCS_NOTES = REPO / "bgmigrate" / "check" / "reference_notes.md"
DOCS_SECTION = "## Verdicts proven by trace"
CATEGORIES = (Category.LOCKING, Category.REWRITE, Category.COMPAT)
SERVER_MAJOR = 18
ROWS = 3
_MISSING_RELATION = re.compile(r'relation "([\w.]+)" does not exist')
_MISSING_COLUMN = re.compile(
    r'column "(\w+)" (?:of relation "(\w+)" )?(?:named in key )?does not exist'
)
_MISSING_FK_COLUMN = re.compile(
    r'column "(\w+)" referenced in foreign key constraint does not exist'
)
_MISSING_INDEX = re.compile(r'index "(\w+)" does not exist')
_MISSING_CONSTRAINT = re.compile(r'constraint "(\w+)" of relation "(\w+)" does not exist')
# Adds a column to every table that lacks it: the error does not always say which table.
_ADD_EVERYWHERE = """DO $$ DECLARE t regclass; BEGIN
FOR t IN SELECT relid FROM pg_stat_user_tables LOOP
  EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS ', t) || $c${column}$c$;
END LOOP; END $$"""
_UNGUESSABLE = {"42704", "42809", "0A000", "42P16", "55000", "42883"}
"""Errors that say an object the example takes for granted is of another kind than the one
the setup guessed (an index, a materialized view, an enum, a function, a tablespace…)."""
_BREAKS_READS_OR_INSERTS = {
    "rename-column",
    "drop-column",
    "rename-table",
    "drop-table",
    "add-not-null-column-without-default",
}
"""Compatibility rules whose break the generated old-version queries (read every column,
insert the known ones) must show; the others' (an enum label, a type) they need not."""
_CLAIMED_LOCK = {
    "ACCESS EXCLUSIVE": "AccessExclusiveLock",
    "SHARE ROW EXCLUSIVE": "ShareRowExclusiveLock",
    "SHARE UPDATE EXCLUSIVE": "ShareUpdateExclusiveLock",
    "SHARE lock": "ShareLock",
    "SHARE (": "ShareLock",
}


@dataclass
class Outcome:
    case: str
    verdict: str
    """"agree", "disagree" or "untraceable"."""
    detail: str = ""


def examples() -> Iterator[tuple[str, str | None, Example]]:
    """(case, rule, example): every example of the traced rules, then each of the bundled
    SQL fixture's proposed migrations after its history (judged on every traced rule)."""
    yield from _rule_examples()
    history = "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted((REPO / "fixtures/sql_app/migrations").glob("*.sql"))
    )
    for path in sorted((REPO / "fixtures/sql_app/proposed").glob("*.sql")):
        yield f"fixture:{path.stem}", None, Example(path.read_text(encoding="utf-8"), history)


def _rule_examples() -> Iterator[tuple[str, str, Example]]:
    for rule in CATALOG.values():
        if rule.category not in CATEGORIES:
            continue
        for kind, group in (("flag", rule.flagged), ("pass", rule.passing)):
            for index, example in enumerate(group):
                yield f"{rule.name}:{kind}:{index}", rule.name, example


def judge(server: str, case: str, rule: str | None, example: Example) -> Outcome:
    if example.language != "sql":
        return Outcome(case, "untraceable", "an Alembic revision")
    if example.pg_version is not None and example.pg_version != SERVER_MAJOR:
        return Outcome(case, "untraceable", f"targets PostgreSQL {example.pg_version}")
    result = check_sql(
        example.sql,
        before=example.before,
        pg_version=example.pg_version or 16,
        phase=example.phase,
        assume_in_transaction=example.assume_in_transaction,
    )
    findings = [
        f
        for f in result.findings
        if f.rule == rule or (rule is None and CATALOG[f.rule].category in CATEGORIES)
    ]
    must_flag = case.split(":")[1] == "flag"
    return compare(case, rule, findings, trace_example(server, example), must_flag=must_flag)


def compare(
    case: str, rule: str | None, findings: list[Finding], traced: TraceResult, *, must_flag: bool
) -> Outcome:
    """The checker's `findings` on a SQL text against its trace, statement by statement (both
    numbered by the lines of that text)."""
    traces = traced.statements
    broke = {f.location.line for f in traced.findings}
    problems = []
    for trace in traces:
        mine = [f for f in findings if trace.line <= f.location.line <= _last_line(trace)]
        if trace.error is not None and mine and _says(mine[0], trace.error):
            continue
        if trace.error is not None and trace.error.startswith("23"):
            return Outcome(case, "untraceable", "fails on the rows it was given")
        if trace.error is not None and trace.error[:5] in _UNGUESSABLE:
            return Outcome(case, "untraceable", "takes for granted an object it does not create")
        if trace.error is not None:
            problems.append(f"line {trace.line} fails: {trace.error}")
        elif mine:
            problems.extend(_unproven_claims(mine[0], trace, trace.line in broke))
        else:
            problems.extend(_harm(trace))
    if must_flag and not findings:
        problems.append("the checker does not flag it")
    if not problems:
        return Outcome(case, "agree")
    if all("claims the old version breaks" in p for p in problems) and not any(
        f.rule in _BREAKS_READS_OR_INSERTS for f in findings
    ):
        return Outcome(case, "untraceable", "a break the generated old queries cannot show")
    return Outcome(case, "disagree", "; ".join(problems))


def _says(finding: Finding, error: str) -> bool:
    """True when the finding's message foretells PostgreSQL's error."""
    refused = ("transaction block", "from a function")
    return error.startswith("25001") and any(words in finding.message for words in refused)


def _last_line(trace: StatementTrace) -> int:
    return trace.line + trace.sql.count("\n")


def _claims(finding: Finding) -> list[str]:
    text = finding.message
    claims = [mode for phrase, mode in _CLAIMED_LOCK.items() if phrase in text]
    if re.search(r"\brewrit(?:es?|ten|ing)\b", text):  # not a name like rewrite_test
        claims.append("rewrite")
    if re.search(r"\bscans?\b", text) and "skips" not in text:
        claims.append("scan")
    return claims


def _unproven_claims(finding: Finding, trace: StatementTrace, broke: bool) -> list[str]:
    """What the message says that the trace does not show. A compatibility verdict with no
    claim about locks or storage says the old version breaks: one of its queries must."""
    problems = []
    claims = _claims(finding)
    strongest = max((LOCK_STRENGTH.index(lock.mode) for lock in trace.locks), default=-1)
    for claim in claims:
        if claim in LOCK_STRENGTH and strongest < LOCK_STRENGTH.index(claim):
            problems.append(f"line {trace.line} claims {claim}, took {_locks(trace)}")
        if claim == "rewrite" and not trace.rewritten:
            problems.append(f"line {trace.line} claims a rewrite, rewrote nothing")
        if claim == "scan" and not trace.scanned:
            problems.append(f"line {trace.line} claims a scan, scanned nothing")
    if not claims and not broke:
        problems.append(f"line {trace.line} claims the old version breaks; none of its queries did")
    return problems


def _harm(trace: StatementTrace) -> list[str]:
    """What a passed statement must not do to an existing table."""
    blocking = {lock.relation for lock in trace.locks if lock.blocks}
    problems = [f"line {trace.line} passes but rewrites {r}" for r in trace.rewritten]
    problems += [
        f"line {trace.line} passes but scans {r} under {_locks(trace)}"
        for r in trace.scanned
        if r in blocking
    ]
    return problems


def _locks(trace: StatementTrace) -> str:
    return ", ".join(f"{lock.mode} on {lock.relation}" for lock in trace.locks) or "no lock"


def trace_example(server: str, example: Example) -> TraceResult:
    """Trace the example on a new database, creating what it takes for granted first."""
    created = _created(example.before) | _created(example.sql)
    setup = [_table(_FIRST_TABLE)] if _FIRST_TABLE not in created else []
    setup += _named_by_if_exists(example.sql, created)
    for _ in range(12):
        with ScratchDatabase(server) as dsn:
            _replay(dsn, [*setup, *_statements(example.before)])
            _seed(dsn)
            unit = read_sql_unit(
                "example.sql", example.sql, assume_in_transaction=example.assume_in_transaction
            )
            with psycopg.connect(dsn, autocommit=True) as connection:
                queries = old_version_queries(connection)
            result = trace_on(dsn, [unit], old_queries=queries)
        traces = result.statements
        missing = _missing(traces[-1].error if traces else None)
        if missing is None:
            return result
        setup.append(missing)
    return result


def old_version_queries(
    connection: psycopg.Connection, tables: list[Name] | None = None
) -> list[AppQuery]:
    """What an old version of the app does with every existing table (or with `tables`, as
    the session's search_path finds them): read each of its columns, and insert a row naming
    the columns it knows."""
    names = None if tables is None else [str(table) for table in tables]
    rows = connection.execute(
        "SELECT format('%%I.%%I', table_schema, table_name), string_agg(format('%%I', "
        "column_name), ', ' ORDER BY ordinal_position), string_agg(CASE WHEN "
        "is_identity = 'NO' AND is_generated = 'NEVER' THEN format('%%I', column_name) "
        "END, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE "
        "table_schema NOT IN ('pg_catalog', 'information_schema') AND (%(names)s::text[] "
        "IS NULL OR to_regclass(format('%%I.%%I', table_schema, table_name)) IN (SELECT "
        "to_regclass(n) FROM unnest(%(names)s::text[]) AS n)) GROUP BY 1",
        {"names": names},
    ).fetchall()
    queries = []
    for table, columns, writable in rows:
        queries.append(AppQuery(f"SELECT {columns} FROM {table}", "old.sql", len(queries) + 1))
        if writable:
            values = ", ".join(f"${i + 1}" for i in range(writable.count(",") + 1))
            insert = f"INSERT INTO {table} ({writable}) VALUES ({values})"
            queries.append(AppQuery(insert, "old.sql", len(queries) + 1))
    return queries


def _operations(sql: str) -> Iterator[Operation]:
    for statement in read_sql_unit("example.sql", sql).statements:
        yield from parse_statement(statement)


def _created(sql: str) -> set[str]:
    """The names of the tables and indexes the SQL creates."""
    names = set()
    for op in _operations(sql):
        if isinstance(op, CreateTable):
            names.add(op.table.name)
        if isinstance(op, CreateIndex) and op.name is not None:
            names.add(op.name.name)
    return names


def _named_by_if_exists(sql: str, created: set[str]) -> list[str]:
    """The indexes and tables an example drops `IF EXISTS` without creating them: created
    first, so there is something to drop (a missing one raises no error that would say so)."""
    setup = []
    for op in _operations(sql):
        if isinstance(op, DropIndex):
            setup += [
                f"CREATE INDEX IF NOT EXISTS {name.name} ON {_FIRST_TABLE} (id)"
                for name in op.names
                if name.name not in created
            ]
        if isinstance(op, DropTable):
            setup += [_qualified_table(table) for table in op.tables if table.name not in created]
        if isinstance(op, RenameTable) and op.table.name not in created:
            setup.append(_qualified_table(op.table))
        if isinstance(op, DropColumn) and op.if_exists:
            setup.append(f"ALTER TABLE {op.table} ADD COLUMN IF NOT EXISTS {_column(op.column)}")
    return setup


def _qualified_table(table: Name) -> str:
    schema = f"CREATE SCHEMA IF NOT EXISTS {table.schema}; " if table.schema else ""
    return schema + _table(str(table)).replace("TABLE", "TABLE IF NOT EXISTS", 1)


def _statements(sql: str) -> list[str]:
    return [piece.sql for piece in split_sql(sql)]


def _replay(dsn: str, statements: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        for statement in statements:
            for _ in range(12):
                try:
                    connection.execute(statement.encode())  # type: ignore[arg-type]
                    break
                except psycopg.Error as error:
                    missing = _missing(f"{error.sqlstate} {error}")
                    if missing is None or not try_statement(connection, missing):
                        break


def try_statement(connection: psycopg.Connection, sql: str) -> bool:
    """Run `sql`; False when PostgreSQL refuses it."""
    try:
        connection.execute(sql.encode())  # type: ignore[arg-type]
    except psycopg.Error:
        return False
    return True


def _missing(error: str | None) -> str | None:
    """The DDL that creates what an error says is missing, if it says so."""
    if error is None:
        return None
    if error.startswith("42P01") and (match := _MISSING_RELATION.search(error)):
        # The error names the relation exactly as PostgreSQL knows it: quoted, case is kept.
        parts = [f'"{part}"' for part in match[1].split(".")]
        schema = f"CREATE SCHEMA IF NOT EXISTS {parts[0]}; " if len(parts) > 1 else ""
        return schema + _table(".".join(parts))
    if error.startswith("42703") and (match := _MISSING_COLUMN.search(error)):
        if match[2]:
            return f'ALTER TABLE "{match[2]}" ADD COLUMN {_column(match[1])}'
        return _ADD_EVERYWHERE.replace("{column}", _column(match[1]))
    if error.startswith("42703") and (match := _MISSING_FK_COLUMN.search(error)):
        return _ADD_EVERYWHERE.replace("{column}", _column(match[1]))
    if error.startswith("42704") and (match := _MISSING_INDEX.search(error)):
        return f"CREATE INDEX {match[1]} ON {_FIRST_TABLE} (id)"
    if error.startswith("42704") and (match := _MISSING_CONSTRAINT.search(error)):
        return f"ALTER TABLE {match[2]} ADD CONSTRAINT {match[1]} CHECK (true) NOT VALID"
    return None


_FIRST_TABLE = "users"
"""Where an index an example takes for granted is built: every example's main table."""


def _column(name: str) -> str:
    """A column an example takes for granted, typed after its name, never NULL in the rows."""
    quoted = f'"{name}"'
    if name == "id" or name.endswith("_id"):
        return f"{quoted} bigint DEFAULT 1"
    if name.endswith("_at"):
        return f"{quoted} timestamptz DEFAULT now()"
    if any(word in name for word in _TEXT_WORDS):
        return f"{quoted} text DEFAULT 'x'"
    return f"{quoted} numeric DEFAULT 1"


_TEXT_WORDS = ("email", "name", "status", "note", "title", "code", "slug", "url", "bio", "kind")


def _table(name: str) -> str:
    return f"CREATE TABLE {name} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)"


def _seed(dsn: str) -> None:
    """A few rows in every table that has none, where default values are enough."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables"
        ).fetchall()
        for (table,) in tables:
            try:
                for _ in range(ROWS):
                    connection.execute(f"INSERT INTO {table} DEFAULT VALUES".encode())  # type: ignore[arg-type]
            except psycopg.Error:
                continue


class ScratchDatabase:
    """A new database on the server, dropped afterwards; entering it gives its DSN."""

    def __init__(self, server: str) -> None:
        self._server = server
        self._name = f"agree_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> str:
        with psycopg.connect(self._server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self._name}"'.encode())  # type: ignore[arg-type]
        return make_conninfo(**{**conninfo_to_dict(self._server), "dbname": self._name})

    def __exit__(self, *exc: object) -> None:
        with psycopg.connect(self._server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{self._name}" WITH (FORCE)'.encode())  # type: ignore[arg-type]


def documented() -> dict[str, str]:
    """Case → reason, from the notes' table; a row may name several cases (`a:1`, `b:2`)."""
    text = DOCS_NOTES.read_text(encoding="utf-8")
    section = text.split(DOCS_SECTION, 1)[1].split("\n## ", 1)[0] if DOCS_SECTION in text else ""
    rows = re.findall(r"^\| ((?:`[\w.:-]+`(?:, )?)+) \| (.*?) \|$", section, re.MULTILINE)
    return {case: reason for cases, reason in rows for case in re.findall(r"`([\w.:-]+)`", cases)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="rewrite RESULTS.md's section")
    parser.add_argument("--sdist", type=Path, help="a pglast sdist already downloaded")
    parser.add_argument(
        "--no-corpus", action="store_true", help="trace the rule examples and fixtures only"
    )
    arguments = parser.parse_args()
    started = time.perf_counter()
    outcomes = []
    with start_embedded_postgres() as server:
        for case, rule, example in examples():
            outcomes.append(judge(server, case, rule, example))
        elapsed = time.perf_counter() - started
        corpus = None if arguments.no_corpus else _trace_corpus(server, arguments.sdist)
    corpus_outcomes = corpus.outcomes if corpus else []
    notes = documented()
    disagreements = [o for o in (*outcomes, *corpus_outcomes) if o.verdict == "disagree"]
    undocumented = [o for o in disagreements if o.case not in notes]
    for outcome in disagreements:
        mark = "documented" if outcome.case in notes else "UNDOCUMENTED"
        print(f"{mark} {outcome.case}: {outcome.detail}")
    traced_cases = {o.case.split(":")[0] for o in (*outcomes, *corpus_outcomes)}
    stale = sorted(
        case
        for case in set(notes) - {o.case for o in disagreements}
        if case.split(":")[0] in traced_cases
    )
    for case in stale:
        print(f"documented but agrees now (remove the note): {case}")
    counts = Counter(outcome.verdict for outcome in outcomes)
    documented_here = counts["disagree"] - sum(o in undocumented for o in outcomes)
    summary = (
        f"{len(outcomes)} examples of {len({o.case.split(':')[0] for o in outcomes})} lock, "
        f"rewrite and compatibility rules traced in {elapsed:.0f} s: {counts['agree']} agree, "
        f"{counts['disagree']} disagree ({documented_here} documented), "
        f"{counts['untraceable']} not judged by a trace alone"
    )
    print(summary)
    untraceable = Counter(o.detail for o in outcomes if o.verdict == "untraceable")
    for why, count in untraceable.most_common():
        print(f"  not judged by a trace alone: {count} × {why}")
    corpus_lines = _corpus_summary(corpus, notes) if corpus else []
    print("\n".join(corpus_lines))
    if arguments.record:
        write_section(
            "trace-agreement",
            "\n".join(
                [
                    "## Static verdicts proven by trace (`benchmarks/trace_agreement.py`)",
                    "",
                    *machine_lines(),
                    "- PostgreSQL: the embedded server (`embedded-postgres`), major "
                    f"{SERVER_MAJOR}",
                    "",
                    summary + ".",
                    "",
                    "Not judged by a trace alone: "
                    + "; ".join(f"{n} × {why}" for why, n in untraceable.most_common())
                    + ".",
                    *(["", *corpus_lines] if corpus_lines else []),
                ]
            ),
        )
    return 1 if undocumented or stale else 0


def _trace_corpus(server: str, sdist: Path | None) -> CorpusTally:
    """The regression corpus, traced where the rules judge it (`trace_regress`)."""
    from importlib.metadata import version

    from regress import regress_corpus
    from trace_regress import trace_corpus

    with regress_corpus(sdist, version("pglast")) as folder:
        started = time.perf_counter()
        tally = trace_corpus(server, sorted(folder.glob("*.sql")))
        tally.seconds = time.perf_counter() - started
    return tally


def _corpus_summary(corpus: CorpusTally, notes: dict[str, str]) -> list[str]:
    from importlib.metadata import version

    counts = Counter(o.verdict for o in corpus.outcomes)
    documented_here = sum(o.verdict == "disagree" and o.case in notes for o in corpus.outcomes)
    left_out = "; ".join(f"{n} × {why}" for why, n in corpus.left_out.most_common())
    return [
        f"PostgreSQL's regression corpus (the {corpus.files} files of pglast {version('pglast')}'s "
        f"sdist, {corpus.statements} statements; method in `benchmarks/trace_regress.py`): "
        f"{corpus.judged} statements judged by a lock, rewrite or compatibility rule traced "
        f"in {corpus.seconds:.0f} s; {len(corpus.outcomes)} compared: {counts['agree']} "
        f"agree, {counts['disagree']} disagree ({documented_here} documented), "
        f"{counts['untraceable']} not judged by a trace alone.",
        "",
        f"Not compared: {left_out}.",
    ]


if __name__ == "__main__":
    sys.exit(main())
