"""The plan as a pull-request description: a summary, a Mermaid diagram of which app version
works with which schema state, and each phase with its SQL."""

from __future__ import annotations

from pathlib import Path

from bgmigrate.plan.model import Plan
from bgmigrate.plan.render.compatibility import (
    NEW,
    OLD,
    phase_apps,
    schema_states,
    target_summary,
)
from bgmigrate.plan.render.output import RenderedFile

__all__ = ["render"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _diagram(plan: Plan) -> list[str]:
    states = schema_states(plan)
    chain = ['    s0["schema before"]']
    for index, phase in enumerate(plan.phases, start=1):
        chain.append(f'    s{index - 1} -->|{phase.name}| s{index}["{states[index].label}"]')
    old = " & ".join(f"s{i}" for i, state in enumerate(states) if state.old_works)
    new = " & ".join(f"s{i}" for i, state in enumerate(states) if state.new_works)
    lines = ["```mermaid", "flowchart LR", *chain]
    if old:
        lines.append(f'    old(["{OLD}"]) -.- {old}')
    if new:
        lines.append(f'    new(["{NEW}"]) -.- {new}')
    lines += [
        "    classDef blue fill:#dbeafe,stroke:#1d4ed8",
        "    classDef green fill:#dcfce7,stroke:#15803d",
        "    class old blue",
        "    class new green",
        "```",
    ]
    return lines


def _markdown(plan: Plan) -> str:
    lines = [
        f"## bgmigrate plan `{plan.id}`",
        "",
        f"**{plan.operation}** `{target_summary(plan)}` · PostgreSQL {plan.pg_version} · "
        f"checksum `{plan.checksum}`",
        "",
    ]
    if plan.blockers:
        lines += [
            "> [!WARNING]",
            "> **Blockers**: the executor refuses this plan until they are solved.",
            ">",
        ]
        lines += [f"> - {blocker}" for blocker in plan.blockers]
        lines.append("")
    lines += [
        "### Phases",
        "",
        f"| phase | kind | runs after | {OLD} | {NEW} |",
        "|---|---|---|---|---|",
    ]
    for phase in plan.phases:
        apps = phase_apps(plan, phase)
        lines.append(
            f"| {phase.name} | {phase.kind} | {', '.join(phase.requires) or '—'} | "
            f"{_cell(apps.old)} | {_cell(apps.new)} |"
        )
    lines += ["", "### App versions × schema states", "", *_diagram(plan), ""]
    for phase in plan.phases:
        lines += [f"### {phase.name}", ""]
        if phase.instructions:
            lines += [phase.instructions, ""]
        if phase.backfill:
            backfill = phase.backfill
            lines += [
                f"Batched backfill of `{backfill.table}` by `{', '.join(backfill.key)}`:",
                "",
                "```sql",
                f"UPDATE {backfill.table} SET {backfill.set} WHERE {backfill.where}",
                "```",
                "",
            ]
        for number, step in enumerate(phase.steps, start=1):
            where = "" if step.transactional else " *(outside a transaction)*"
            lines += [
                f"{number}. {step.description or ''}{where}",
                "",
                "```sql",
                step.sql,
                "```",
                "",
            ]
        if phase.verify:
            lines += ["Verify:", "", "```sql", phase.verify, "```", ""]
    if plan.notes:
        lines += ["### Notes", "", *(f"- {note}" for note in plan.notes), ""]
    return "\n".join(lines)


def render(plan: Plan, out: Path | None = None) -> list[RenderedFile]:
    return [RenderedFile(f"{plan.id}.md", _markdown(plan))]
