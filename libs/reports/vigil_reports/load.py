"""Reading one scan's report data from PostgreSQL into :class:`vigil_reports.model.Report`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Final

import asyncpg
import msgspec

from vigil_common.db import Pool
from vigil_reports.model import (
    FileCounts,
    Filtered,
    FilterReason,
    Report,
    ReportFinding,
    ScanInfo,
    Source,
    Step,
    count_severities,
)

# The row carries its status history (scans.history, kept by a trigger: migration 0018).
_SCAN: Final = """
SELECT s.*, p.name AS project
FROM scans s JOIN projects p ON p.id = s.project_id
WHERE s.id = $1 AND ($2::uuid IS NULL OR s.org_id = $2)
"""

# Most severe first, then by place in the code: the order every format lists findings in.
_FINDINGS: Final = """
SELECT * FROM findings WHERE scan_id = $1 AND status = 'reported'
ORDER BY array_position(ARRAY['critical','high','medium','low','info'], severity),
    file_path, start_line, fingerprint
"""

_FILTERED: Final = "SELECT filter_reason FROM findings WHERE scan_id = $1 AND status = 'filtered'"


async def load_report(
    pool: Pool, scan_id: uuid.UUID, org_id: uuid.UUID | None = None
) -> Report | None:
    """The scan's report data; ``None`` when there is no such scan (in ``org_id``, if given)."""
    row = await pool.fetchrow(_SCAN, scan_id, org_id)
    if row is None:
        return None
    findings = [_finding(r) for r in await pool.fetch(_FINDINGS, scan_id)]
    reasons = [r["filter_reason"] for r in await pool.fetch(_FILTERED, scan_id)]
    return Report(
        scan=_scan(row),
        severity_counts=count_severities(findings),
        findings=findings,
        filtered=filtered_summary(reasons),
    )


def _scan(row: asyncpg.Record) -> ScanInfo:
    return ScanInfo(
        id=row["id"],
        project=row["project"],
        status=row["status"],
        error=row["error"],
        source=Source(
            type=row["source_type"],
            format=row["archive_format"],
            repo_url=row["repo_url"],
            ref=row["ref"],
            commit=row["commit_sha"],
        ),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        files=FileCounts(
            total=row["total_files"],
            included=row["included_files"],
            ignored=row["ignored_files"],
            skipped=row["risky_skipped_files"],
            bytes=row["total_bytes"],
        ),
        languages=dict(sorted((row["languages"] or {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        score=row["score"],
        grade=row["grade"],
        history=msgspec.convert(row["history"], list[Step], strict=False),
    )


def _finding(row: asyncpg.Record) -> ReportFinding:
    validity = row["validity"]
    until = row["validity_until"]
    # An accepted risk past its date shows as unreviewed again, as in the API.
    if validity == "acknowledged" and until is not None and until <= dt.datetime.now(dt.UTC):
        validity = "unreviewed"
    return ReportFinding(
        id=row["id"],
        fingerprint=row["fingerprint"],
        scanner=row["scanner"],
        reported_by=list(row["reported_by"]),
        rule_id=row["rule_id"],
        title=row["title"],
        severity=row["severity"],
        confidence=row["confidence"],
        cwe=list(row["cwe"]),
        owasp=list(row["owasp"]),
        file_path=row["file_path"],
        start_line=row["start_line"],
        end_line=row["end_line"],
        snippet=row["snippet"],
        evidence=row["evidence"],
        description=row["description"],
        recommendation=row["recommendation"],
        validity=validity,
        validity_reason=row["validity_reason"],
        first_seen_at=row["first_seen_at"],
    )


def reason_kind(reason: str | None) -> str:
    """The kind of a filter reason, without the per-finding detail after it.

    ``duplicate of the semgrep finding X at a.py:3`` and ``suppressed inline by vigil-ignore:
    <text>`` name one finding each; counted per finding they would never add up.
    """
    if not reason:
        return "no reason recorded"
    if reason.startswith("duplicate of"):
        return "duplicate of another finding (merged)"
    return reason.split(": ", 1)[0]


def filtered_summary(reasons: list[str | None]) -> Filtered:
    """Filtered findings counted by kind of reason, most frequent first."""
    counts = Counter(reason_kind(r) for r in reasons)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Filtered(total=len(reasons), reasons=[FilterReason(r, n) for r, n in ordered])
