"""Fingerprints that follow a finding when the code around it moves."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence

from bgmigrate.check.finding import Finding
from bgmigrate.check.report.paths import repository_path

__all__ = ["fingerprints"]


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One sha256 hex digest per finding, in order.

    The digest covers the rule, the repository path, the statement with its whitespace
    collapsed, and the occurrence of that triple among the findings before it. Line numbers
    are left out on purpose: adding a line above a statement must not make CI treat its old
    finding as fixed and a new one as introduced. The occurrence index keeps two identical
    statements in one file apart.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    digests = []
    for finding in findings:
        key = (finding.rule, repository_path(finding.path), " ".join(finding.statement.split()))
        occurrence = seen[key]
        seen[key] += 1
        payload = json.dumps([*key, occurrence], ensure_ascii=False)
        digests.append(hashlib.sha256(payload.encode("utf-8")).hexdigest())
    return digests
