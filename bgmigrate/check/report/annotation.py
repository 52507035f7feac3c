"""What a CI annotation says about a finding: the problem, then what to do instead."""

from __future__ import annotations

from bgmigrate.check.finding import Finding

__all__ = ["annotation_message"]


def annotation_message(finding: Finding) -> str:
    """The finding's message, and its safe alternative on a second line when it has one.

    A pull-request annotation is often all a reviewer reads, so it carries the fix too.
    """
    if not finding.safe_alternative:
        return finding.message
    return f"{finding.message}\nSafe alternative: {finding.safe_alternative}"
