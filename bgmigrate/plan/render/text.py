"""The plan as a tree for the terminal: phases, their steps, and what each app version may do
while a phase runs."""

from __future__ import annotations

import io
from pathlib import Path

from bgmigrate.plan.model import Plan, PlanPhase
from bgmigrate.plan.render.compatibility import NEW, OLD, phase_apps, target_summary
from bgmigrate.plan.render.output import RenderedFile

__all__ = ["render", "tree"]

_SQL_LINES = 8


def _sql(text: str) -> str:
    lines = text.splitlines()
    if len(lines) > _SQL_LINES:
        lines = [*lines[:_SQL_LINES], f"… ({len(lines) - _SQL_LINES} more lines in the plan file)"]
    return "\n".join(lines)


def _phase(parent: object, plan: Plan, phase: PlanPhase) -> None:
    from rich.markup import escape
    from rich.text import Text

    requires = f", after {', '.join(phase.requires)}" if phase.requires else ""
    node = parent.add(Text.assemble((phase.name, "bold cyan"), f" ({phase.kind}{requires})"))  # type: ignore[attr-defined]
    apps = phase_apps(plan, phase)
    node.add(Text.assemble((f"{OLD}: ", "blue"), apps.old))
    node.add(Text.assemble((f"{NEW}: ", "green"), apps.new))
    if phase.instructions:
        node.add(Text(phase.instructions))
    if phase.backfill:
        backfill = phase.backfill
        node.add(
            Text.assemble(
                ("batches: ", "bold"),
                f"UPDATE {backfill.table} SET {backfill.set} WHERE {backfill.where} "
                f"(by {', '.join(backfill.key)})",
            )
        )
    for number, step in enumerate(phase.steps, start=1):
        where = "" if step.transactional else " [outside a transaction]"
        step_node = node.add(f"{number}. {escape(step.description or '')}{where}")
        step_node.add(Text(_sql(step.sql), style="dim"))
    if phase.verify:
        node.add(Text.assemble(("verify: ", "bold"), phase.verify))


def tree(plan: Plan) -> object:
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(
        Text.assemble(
            ("plan ", "bold"),
            (plan.id, "bold"),
            f": {plan.operation} {target_summary(plan)} (PostgreSQL {plan.pg_version})",
        )
    )
    if plan.blockers:
        blockers = root.add(
            Text("blockers: the executor refuses this plan until they are solved", style="bold red")
        )
        for blocker in plan.blockers:
            blockers.add(Text(blocker, style="red"))
    for phase in plan.phases:
        _phase(root, plan, phase)
    if plan.notes:
        notes = root.add(Text("notes", style="bold"))
        for note in plan.notes:
            notes.add(Text(note))
    return root


def render(plan: Plan, out: Path | None = None) -> list[RenderedFile]:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=100, no_color=True, highlight=False).print(tree(plan))
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    return [RenderedFile(f"{plan.id}.txt", text)]
