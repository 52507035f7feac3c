"""One Alembic revision per db phase, chained after the project's current head and tagged with
`bgmigrate_phase`, each passing `bgmigrate check`.

A revision runs its steps inside `autocommit_block()`: each transactional step is its own
`BEGIN … COMMIT` (a short transaction, as the executor runs it), `CONCURRENTLY` steps and the
batched backfill run outside any transaction. `--out` names the project (its `alembic.ini`, its
directory or its script directory: the files go to its versions directory) or a versions
directory; the head is read from the revision files there, without importing them.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from bgmigrate.plan.model import Plan, PlanError, PlanPhase
from bgmigrate.plan.render.compatibility import target_summary
from bgmigrate.plan.render.output import RenderedFile
from bgmigrate.plan.render.script import (
    LOCK_TIMEOUT,
    ScriptBlock,
    ScriptStatement,
    phase_script,
)

if TYPE_CHECKING:
    from bgmigrate.source.alembic.project import AlembicProject

__all__ = ["current_head", "render"]

_INDENT = " " * 8
_CONCURRENTLY = re.compile(r"\bconcurrently\b", re.IGNORECASE)


def _project(out: Path | None) -> AlembicProject | None:
    if out is None or not out.exists():
        return None
    from bgmigrate.source.alembic.project import find_project

    return find_project(out)


def current_head(out: Path | None) -> str | None:
    """The single head revision of the Alembic project at `out` (its versions directory,
    script directory or `alembic.ini`); None when it has no revisions yet."""
    project = _project(out)
    if project is None:
        return None
    revisions = project.revisions()
    parents = {parent for revision in revisions for parent in revision.down_revisions}
    heads = sorted(revision.revision for revision in revisions if revision.revision not in parents)
    if len(heads) > 1:
        raise PlanError(
            f"the Alembic project at {out} has several heads ({', '.join(heads)}): merge "
            "them (alembic merge heads) before adding the plan's revisions"
        )
    return heads[0] if heads else None


def _versions_prefix(out: Path | None) -> str:
    """Where the revisions go, relative to `out`'s directory: its versions directory when `out`
    names the project (an `alembic.ini`, the project or its script directory)."""
    project = _project(out)
    if out is None or project is None or not project.version_dirs:
        return ""
    base = out if out.is_dir() else out.parent
    versions = project.version_dirs[0].resolve()
    try:
        relative = versions.relative_to(base.resolve())
    except ValueError:
        return ""
    return "" if relative == Path() else f"{relative.as_posix()}/"


def revision_id(plan: Plan, phase: PlanPhase) -> str:
    seed = f"{plan.checksum or plan.compute_checksum()}:{phase.name}"
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:12]


def _python_string(sql: str) -> str:
    """A raw string literal when one can hold `sql` as written (readable SQL, backslashes
    kept), else Python's own escaped form."""
    if '"""' in sql or sql.endswith(('"', "\\")):
        return repr(sql)
    return f'r"""{sql}"""' if "\n" in sql or '"' in sql else f'r"{sql}"'


def _execute(sql: str, indent: str) -> list[str]:
    literal = _python_string(sql)
    return [f"{indent}op.execute({literal})"]


def _comment(text: str, indent: str) -> list[str]:
    width = 96 - len(indent) - 2
    lines = textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False) or [""]
    return [f"{indent}# {line}".rstrip() for line in lines]


def _block(number: int, block: ScriptBlock) -> list[str]:
    where = "" if block.transaction else " [outside a transaction]"
    lines = _comment(f"{number}. {block.comment}{where}", _INDENT)
    if block.transaction:
        lines.extend(_execute("BEGIN", _INDENT))
    for statement in block.statements:
        lines.extend(f"{_INDENT}# {tag}" for tag in statement.tags)
        lines.extend(_execute(statement.sql, _INDENT))
    if block.transaction:
        lines.extend(_execute("COMMIT", _INDENT))
    return lines


def _undo_blocks(phase: PlanPhase) -> list[ScriptBlock] | None:
    """The phase's undo statements in reverse order; None when a step cannot be undone."""
    blocks = []
    for step in reversed(phase.steps):
        if step.undo is None:
            return None
        blocks.append(
            ScriptBlock(
                comment=f"Undo: {step.description or step.sql.splitlines()[0]}",
                statements=(ScriptStatement(step.undo),),
                transaction=not _CONCURRENTLY.search(step.undo),
            )
        )
    return blocks


def _module(plan: Plan, phase: PlanPhase, revision: str, down_revision: str | None) -> str:
    upgrade = [
        "    with op.get_context().autocommit_block():",
        *_execute(LOCK_TIMEOUT, _INDENT),
    ]
    for number, block in enumerate(phase_script(plan, phase), start=1):
        upgrade.extend(["", *_block(number, block)])
    undo = _undo_blocks(phase) if phase.backfill is None else None
    if undo is None:
        reason = (
            f"the {phase.name} phase of plan {plan.id} cannot be undone step by step: "
            "write the reverse migration by hand"
        )
        downgrade = [f"    raise NotImplementedError({reason!r})"]
    else:
        downgrade = [
            "    with op.get_context().autocommit_block():",
            *_execute(LOCK_TIMEOUT, _INDENT),
        ]
        for number, block in enumerate(undo, start=1):
            downgrade.extend(["", *_block(number, block)])
    down = json.dumps(down_revision) if down_revision else "None"
    return "\n".join(
        [
            f'"""bgmigrate plan {plan.id}: {phase.name}',
            "",
            f"{plan.operation} {target_summary(plan)}, phase {phase.name}.",
            f"Generated by `bgmigrate plan`; plan checksum {plan.checksum}.",
            "Each step runs in its own short transaction, CONCURRENTLY steps in none.",
            "",
            f"Revision ID: {revision}",
            f"Revises: {down_revision or ''}",
            '"""',
            "",
            "from alembic import op",
            "",
            f'revision = "{revision}"',
            f"down_revision = {down}",
            "branch_labels = None",
            "depends_on = None",
            "",
            f'bgmigrate_phase = "{phase.name}"',
            "",
            "",
            "def upgrade() -> None:",
            *upgrade,
            "",
            "",
            "def downgrade() -> None:",
            *downgrade,
            "",
        ]
    )


def render(plan: Plan, out: Path | None = None) -> list[RenderedFile]:
    down_revision = current_head(out)
    prefix = _versions_prefix(out)
    files = []
    slug = re.sub(r"[^A-Za-z0-9]+", "_", plan.id).strip("_").lower()
    for phase in plan.phases:
        if not phase.is_db:
            continue
        revision = revision_id(plan, phase)
        files.append(
            RenderedFile(
                f"{prefix}{revision}_{slug}_{phase.name}.py",
                _module(plan, phase, revision, down_revision),
            )
        )
        down_revision = revision
    return files
