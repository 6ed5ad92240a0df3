"""Duplicates across scanners: same file, overlapping lines, same CWE → one kept, merged."""

from __future__ import annotations

import uuid
from typing import Any

from vigil_validator.candidates import Candidate, initial
from vigil_validator.dedup import deduplicate, same_issue


def finding(scanner: str = "semgrep", **fields: Any) -> Candidate:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "fingerprint": uuid.uuid4().hex,
        "scanner": scanner,
        "rule_id": f"{scanner}.sqli",
        "title": "SQL injection",
        "severity": "high",
        "confidence": "medium",
        "cwe": ("CWE-89",),
        "file_path": "app/db.py",
        "start_line": 10,
        "end_line": 12,
        **fields,
    }
    return Candidate(**values)


def test_overlap_and_a_shared_cwe_make_a_duplicate() -> None:
    a = finding()
    assert same_issue(a, finding("ai", start_line=12, end_line=14))
    assert not same_issue(a, finding("ai", start_line=13, end_line=14))
    assert not same_issue(a, finding("ai", cwe=("CWE-79",)))
    assert not same_issue(a, finding("ai", file_path="app/other.py"))
    # Without CWEs, only the same rule counts as the same issue.
    assert same_issue(finding(cwe=()), finding(cwe=()))
    assert not same_issue(finding(cwe=()), finding("ai", cwe=()))


def test_the_static_finding_is_kept_and_takes_the_groups_strongest_values() -> None:
    static = finding(cwe=("CWE-89",))
    ai = finding("ai", severity="critical", confidence="high", cwe=("CWE-89", "CWE-943"))
    other = finding("ai", file_path="app/views.py", cwe=("CWE-79",))
    found = [ai, static, other]
    decisions = {c.id: initial(c) for c in found}
    kept = deduplicate(found, decisions)
    assert kept == [static, other]
    merged = decisions[static.id]
    assert (merged.status, merged.severity, merged.confidence) == ("reported", "critical", "high")
    assert merged.cwe == ["CWE-89", "CWE-943"]
    assert merged.reported_by == ["ai", "semgrep"]
    dropped = decisions[ai.id]
    assert dropped.status == "filtered"
    assert dropped.duplicate_of == static.id
    assert dropped.filter_reason == "duplicate of the semgrep finding semgrep.sqli at app/db.py:10"
    assert decisions[other.id].status == "reported"


def test_groups_are_transitive_and_the_result_is_order_independent() -> None:
    chain = [
        finding(start_line=1, end_line=5, fingerprint="c"),
        finding("bandit", start_line=5, end_line=9, fingerprint="a"),
        finding("ai", start_line=9, end_line=12, fingerprint="b"),
    ]
    for order in (chain, list(reversed(chain))):
        decisions = {c.id: initial(c) for c in order}
        kept = deduplicate(order, decisions)
        assert [c.fingerprint for c in kept] == ["a"]
        assert sorted(d.status for d in decisions.values()) == ["filtered", "filtered", "reported"]
