"""A db phase as a script a migration runner can run on its own: what the SQL and Alembic
renderers both print, each in its own syntax.

The script runs in autocommit. Each transactional step becomes one explicit `BEGIN … COMMIT`
(a short transaction, as the executor runs it); `CONCURRENTLY` steps stand outside any
transaction; a session-wide `lock_timeout` makes every lock wait give up instead of queueing
the app's traffic behind it. The backfill is a DO block that walks the primary key in batches
and commits after each one (it must run outside a transaction block); `verify` becomes a DO
block that raises when it does not hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bgmigrate.plan.identifiers import quote_ident, quote_literal
from bgmigrate.plan.model import Backfill, Plan, PlanPhase

__all__ = [
    "BATCH_SIZE",
    "LOCK_TIMEOUT",
    "ScriptBlock",
    "ScriptStatement",
    "phase_script",
]

LOCK_TIMEOUT = "SET lock_timeout = '2s'"
BATCH_SIZE = 1000
_IGNORE = re.compile(r"^\s*--\s*(bgmigrate:\s*ignore\b[^\n]*)$", re.MULTILINE)


@dataclass(frozen=True)
class ScriptStatement:
    sql: str
    tags: tuple[str, ...] = ()
    """`bgmigrate: ignore RULE -- reason` tags that stand before the statement."""


@dataclass(frozen=True)
class ScriptBlock:
    comment: str
    statements: tuple[ScriptStatement, ...]
    transaction: bool
    """Wrap the statements in BEGIN … COMMIT."""


def _statements(sql: str) -> tuple[ScriptStatement, ...]:
    from bgmigrate.source.sql import split_sql

    tags = [(match.start(), match.group(1).strip()) for match in _IGNORE.finditer(sql)]
    result = []
    previous_end = 0
    for piece in split_sql(sql):
        before = tuple(tag for position, tag in tags if previous_end <= position < piece.start)
        result.append(ScriptStatement(piece.sql, before))
        previous_end = piece.end
    return tuple(result)


def phase_script(plan: Plan, phase: PlanPhase) -> list[ScriptBlock]:
    """The blocks of a db phase, in the order the executor runs them."""
    blocks: list[ScriptBlock] = []
    if phase.backfill is not None:
        blocks.append(
            ScriptBlock(
                comment=f"Backfill {phase.backfill.table} in batches of {BATCH_SIZE} rows along "
                f"its key ({', '.join(phase.backfill.key)}), committing after each batch; run "
                "again after an interruption, it skips the rows already done. `bgmigrate apply "
                "--phase backfill` does the same with checkpoints, adaptive batches and progress.",
                statements=(ScriptStatement(batched_update(phase.backfill)),),
                transaction=False,
            )
        )
    for step in phase.steps:
        blocks.append(
            ScriptBlock(
                comment=step.description or "",
                statements=_statements(step.sql),
                transaction=step.transactional,
            )
        )
    if phase.verify is not None:
        blocks.append(
            ScriptBlock(
                comment=f"Stop here unless the {phase.name} phase holds: {phase.verify}",
                statements=(ScriptStatement(verify_block(plan, phase)),),
                transaction=False,
            )
        )
    return blocks


def _do(body: str, declarations: str = "") -> str:
    tag = "$bgmigrate$"
    while tag in body or tag in declarations:
        tag = tag[:-1] + "_$"
    # Column names win over PL/pgSQL variables in the block's statements.
    declare = f"DECLARE\n{declarations}\n" if declarations else ""
    return f"DO {tag}\n#variable_conflict use_column\n{declare}BEGIN\n{body}\nEND\n{tag}"


def batched_update(backfill: Backfill) -> str:
    """A DO block running `backfill` in keyset batches, one transaction per batch."""
    keys = [quote_ident(key) for key in backfill.key]
    last = [f"bgmigrate_last_{index}" for index in range(1, len(keys) + 1)]
    upper = [f"bgmigrate_upper_{index}" for index in range(1, len(keys) + 1)]
    declarations = "\n".join(
        f"    {variable} {backfill.table}.{key}%TYPE;"
        for variable, key in [*zip(last, keys, strict=True), *zip(upper, keys, strict=True)]
    )
    columns = ", ".join(keys)
    row = f"({columns})" if len(keys) > 1 else columns

    def vector(names: list[str]) -> str:
        return f"({', '.join(names)})" if len(names) > 1 else names[0]

    after_last = f"({last[0]} IS NULL OR {row} > {vector(last)})"
    descending = ", ".join(f"{key} DESC" for key in keys)
    body = f"""    LOOP
        SELECT {columns} INTO {", ".join(upper)}
        FROM (SELECT {columns} FROM {backfill.table} WHERE {after_last}
              ORDER BY {columns} LIMIT {BATCH_SIZE}) AS batch
        ORDER BY {descending} LIMIT 1;
        EXIT WHEN NOT FOUND;
        UPDATE {backfill.table} SET {backfill.set}
        WHERE {after_last} AND {row} <= {vector(upper)}
          AND ({backfill.where});
        {"; ".join(f"{a} := {b}" for a, b in zip(last, upper, strict=True))};
        COMMIT;
    END LOOP;"""
    return _do(body, declarations)


def verify_block(plan: Plan, phase: PlanPhase) -> str:
    assert phase.verify is not None
    message = quote_literal(
        f"bgmigrate: plan {plan.id}, phase {phase.name}: the verify query is false: "
        f"{phase.verify}".replace("%", "%%")
    )
    return _do(f"    IF NOT ({phase.verify}) THEN\n        RAISE EXCEPTION {message};\n    END IF;")
