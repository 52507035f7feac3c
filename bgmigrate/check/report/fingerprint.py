"""Fingerprints that follow a finding when the code around it moves."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from bgmigrate.check.finding import Finding
from bgmigrate.check.report.paths import repository_path

__all__ = ["Fingerprints"]


class Fingerprints:
    """One sha256 hex digest per finding, given in report order.

    The digest covers the rule, the repository path, the statement with its whitespace
    collapsed, and the occurrence of that triple among the findings before it. Line numbers
    are left out on purpose: adding a line above a statement must not make CI treat its old
    finding as fixed and a new one as introduced. The occurrence index keeps two identical
    statements in one file apart. The triples seen are counted by a digest of their own, a
    few dozen bytes each rather than the statement's text, since a report is written as the
    run goes and must not hold the run's statements.
    """

    def __init__(self) -> None:
        self._seen: Counter[bytes] = Counter()

    def __call__(self, finding: Finding) -> str:
        key = [finding.rule, repository_path(finding.path), " ".join(finding.statement.split())]
        triple = json.dumps(key, ensure_ascii=False)
        seen = hashlib.blake2b(triple.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        occurrence = self._seen[seen]
        self._seen[seen] += 1
        payload = json.dumps([*key, occurrence], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
