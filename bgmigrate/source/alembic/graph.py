"""The order Alembic runs revisions in: parents before children, branches and merges included."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bgmigrate.source.alembic.revision import RevisionFile

__all__ = ["ancestors", "order_revisions"]


def order_revisions(revisions: Iterable[RevisionFile]) -> list[RevisionFile]:
    """A topological order from base to heads, the same for the same files.

    A revision whose parents are all outside the set is a root. Among revisions ready at the
    same time the one with the smaller file name goes first, and a revision's children follow
    it directly, so a branch stays contiguous. Revisions caught in a cycle (a broken history)
    come last, by file name, rather than being dropped.
    """
    nodes = sorted(revisions, key=lambda r: (r.path.name, str(r.path)))
    known = {node.revision for node in nodes}
    children: dict[str, list[RevisionFile]] = {}
    waiting: dict[int, int] = {}
    for node in nodes:
        parents = {parent for parent in node.parents if parent in known}
        waiting[id(node)] = len(parents)
        for parent in parents:
            children.setdefault(parent, []).append(node)

    ready = [node for node in reversed(nodes) if waiting[id(node)] == 0]
    ordered: list[RevisionFile] = []
    emitted: set[int] = set()
    while ready:
        node = ready.pop()
        ordered.append(node)
        emitted.add(id(node))
        unblocked = []
        for child in children.get(node.revision, ()):
            waiting[id(child)] -= 1
            if waiting[id(child)] == 0:
                unblocked.append(child)
        ready.extend(reversed(unblocked))
    ordered.extend(node for node in nodes if id(node) not in emitted)
    return ordered


def ancestors(revision: RevisionFile, ordered: Sequence[RevisionFile]) -> list[RevisionFile]:
    """The revisions that must have run before `revision`, in `ordered`'s order."""
    by_id: dict[str, list[RevisionFile]] = {}
    for node in ordered:
        by_id.setdefault(node.revision, []).append(node)
    needed: set[str] = set()
    pending = list(revision.parents)
    while pending:
        parent = pending.pop()
        if parent in needed or parent not in by_id:
            continue
        needed.add(parent)
        for node in by_id[parent]:
            pending.extend(node.parents)
    return [node for node in ordered if node.revision in needed and node is not revision]
