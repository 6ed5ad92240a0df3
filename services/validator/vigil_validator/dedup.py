"""Merge duplicates across scanners: same file, overlapping lines, same weakness.

Two findings are duplicates when they are in the same file, their line ranges overlap, and
they share a CWE (or, when either has none, they come from the same rule). Duplicates form
groups (transitively); each group keeps one finding and files the others as ``filtered`` with
a reason naming the one kept. The kept finding prefers deterministic evidence (a static rule
over the AI), then confidence, severity, and the fingerprint to break ties; it takes the union
of the group's CWEs and scanners and its highest severity and confidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from itertools import combinations

from vigil_validator.candidates import CONFIDENCE_RANK, SEVERITY_RANK, Candidate, Decision


def same_issue(a: Candidate, b: Candidate) -> bool:
    """True when ``a`` and ``b`` report the same weakness at the same code."""
    if a.file_path != b.file_path:
        return False
    if a.start_line > b.end_line or b.start_line > a.end_line:
        return False
    if a.cwe and b.cwe:
        return bool(set(a.cwe) & set(b.cwe))
    return a.rule_id == b.rule_id


def groups(candidates: Sequence[Candidate]) -> list[list[Candidate]]:
    """Duplicate groups (singletons included), by union-find over pairs in the same file."""
    parent = list(range(len(candidates)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_file: dict[str, list[int]] = {}
    for i, candidate in enumerate(candidates):
        by_file.setdefault(candidate.file_path, []).append(i)
    # Pairs are only compared within a file: a scan's findings spread over many files.
    for indices in by_file.values():
        for i, j in combinations(indices, 2):
            if same_issue(candidates[i], candidates[j]):
                parent[root(i)] = root(j)
    found: dict[int, list[Candidate]] = {}
    for i, candidate in enumerate(candidates):
        found.setdefault(root(i), []).append(candidate)
    return list(found.values())


def _preference(c: Candidate) -> tuple[int, int, int, str]:
    return (
        c.scanner == "ai",
        -CONFIDENCE_RANK[c.confidence],
        -SEVERITY_RANK[c.severity],
        c.fingerprint,
    )


def merge(group: Sequence[Candidate], decisions: dict[uuid.UUID, Decision]) -> Candidate:
    """Keep the preferred finding of ``group``, file the others as its duplicates."""
    ordered = sorted(group, key=_preference)
    kept = ordered[0]
    decision = decisions[kept.id]
    decision.severity = max((c.severity for c in group), key=SEVERITY_RANK.__getitem__)
    decision.confidence = max((c.confidence for c in group), key=CONFIDENCE_RANK.__getitem__)
    decision.cwe = sorted({cwe for c in group for cwe in c.cwe})
    decision.reported_by = sorted({c.scanner for c in group})
    for duplicate in ordered[1:]:
        decisions[duplicate.id].dismiss(
            f"duplicate of the {kept.scanner} finding {kept.rule_id}"
            f" at {kept.file_path}:{kept.start_line}"
        )
        decisions[duplicate.id].duplicate_of = kept.id
    return kept


def deduplicate(
    candidates: Sequence[Candidate], decisions: dict[uuid.UUID, Decision]
) -> list[Candidate]:
    """Merge every duplicate group; the findings kept, in input order."""
    kept = {merge(group, decisions).id for group in groups(candidates)}
    return [c for c in candidates if c.id in kept]
