"""Candidate findings in PostgreSQL: fingerprinting and idempotent writes."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

import msgspec

from vigil_common import metrics
from vigil_common.db import Pool
from vigil_common.schemas import SEVERITIES, Finding


def fingerprint(scanner: str, rule_id: str, file_path: str, anchor: str) -> str:
    """A stable id for "this rule, in this file, at this code": the dedup key across runs.

    ``anchor`` should be the matched code with whitespace folded, so the fingerprint survives
    lines moving; fall back to the line number when a tool gives no code.
    """
    folded = " ".join(anchor.split())
    digest = hashlib.sha256("\x1f".join((scanner, rule_id, file_path, folded)).encode())
    return digest.hexdigest()[:32]


def distinct_occurrences(findings: Sequence[Finding]) -> list[Finding]:
    """Give each occurrence of identical code in a file its own fingerprint.

    The fingerprint leaves line numbers out so it survives code moving; two identical
    vulnerable lines in one file would then share one. The second and later occurrences
    (by line) get an ordinal in their fingerprint; repeats on the same line stay merged.
    """
    lines: dict[str, list[int]] = {}
    distinct = []
    for finding in sorted(findings, key=lambda f: (f.file_path, f.start_line)):
        seen = lines.setdefault(finding.fingerprint, [])
        if finding.start_line not in seen:
            seen.append(finding.start_line)
        distinct.append(_nth(finding, seen.index(finding.start_line)))
    return distinct


def _nth(finding: Finding, ordinal: int) -> Finding:
    if not ordinal:
        return finding
    salted = hashlib.sha256(f"{finding.fingerprint}#{ordinal}".encode()).hexdigest()
    return msgspec.structs.replace(finding, fingerprint=salted[:32])


_INSERT = """
INSERT INTO findings (scan_id, org_id, project_id, fingerprint, scanner, rule_id, cwe, owasp,
    severity, confidence, title, description, recommendation, file_path, start_line, end_line,
    snippet, evidence, first_seen_scan_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $1)
ON CONFLICT (scan_id, fingerprint) DO NOTHING
"""

# The same code found again keeps the triage decision made on it in an earlier scan, unless
# the acceptance has expired (it resurfaces), or this finding was triaged itself.
_CARRY_OVER_TRIAGE = """
UPDATE findings f SET validity = td.validity, validity_reason = td.reason,
    validity_until = td.until
FROM triage_decisions td
WHERE f.scan_id = $1 AND td.project_id = f.project_id AND td.fingerprint = f.fingerprint
    AND f.triaged_at IS NULL AND (td.until IS NULL OR td.until > now())
"""

# First seen: the earliest scan of the project that found the same fingerprint.
_CARRY_OVER_FIRST_SEEN = """
UPDATE findings f SET first_seen_scan_id = prev.scan_id, first_seen_at = prev.seen
FROM (
    SELECT DISTINCT ON (fingerprint) fingerprint, first_seen_scan_id AS scan_id,
        first_seen_at AS seen
    FROM findings WHERE project_id = $2 AND scan_id <> $1
    ORDER BY fingerprint, first_seen_at
) prev
WHERE f.scan_id = $1 AND f.fingerprint = prev.fingerprint AND prev.seen < f.first_seen_at
"""


async def insert_findings(
    pool: Pool, scan: dict[str, uuid.UUID], findings: Sequence[Finding]
) -> None:
    """Write ``findings`` for a scan (``scan`` holds ``id``, ``org_id``, ``project_id``).

    Safe to repeat: a finding already stored for the scan is skipped.
    """
    findings = distinct_occurrences(findings)
    rows = [
        (
            scan["id"],
            scan["org_id"],
            scan["project_id"],
            f.fingerprint,
            f.scanner,
            f.rule_id,
            list(f.cwe),
            list(f.owasp),
            f.severity,
            f.confidence,
            f.title,
            f.description,
            f.recommendation,
            f.file_path,
            f.start_line,
            f.end_line,
            f.snippet,
            f.evidence,
        )
        for f in findings
    ]
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(_INSERT, rows)
        await conn.execute(_CARRY_OVER_TRIAGE, scan["id"])
        await conn.execute(_CARRY_OVER_FIRST_SEEN, scan["id"], scan["project_id"])
    for f in findings:
        metrics.FINDINGS.labels(f.scanner, f.severity).inc()


async def severity_counts(pool: Pool, scan_id: uuid.UUID) -> dict[str, int]:
    """Reported (not filtered) findings of the scan per severity, every severity present."""
    rows = await pool.fetch(
        "SELECT severity, count(*) AS n FROM findings"
        " WHERE scan_id = $1 AND status = 'reported' GROUP BY severity",
        scan_id,
    )
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    counts.update({row["severity"]: row["n"] for row in rows})
    return counts
