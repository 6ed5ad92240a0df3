"""The data every report format renders: one scan, its reported findings, what was filtered.

Built once from PostgreSQL (:mod:`vigil_reports.load`) and rendered by each format module.
Nothing here depends on the time of rendering, so the encoded data identifies a report's
content (:func:`vigil_reports.store.revision`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final, Literal

import msgspec

from vigil_common.schemas import SEVERITIES

REPORT_VERSION: Final = 1

Format = Literal["json", "markdown", "sarif", "html", "pdf"]
FORMATS: Final[tuple[Format, ...]] = ("json", "markdown", "sarif", "html", "pdf")


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """Where the scanned code came from."""

    type: str
    format: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    commit: str | None = None


class FileCounts(msgspec.Struct, frozen=True, kw_only=True):
    """What ingest counted: files found, scanned, ignored and skipped (``None`` before ingest)."""

    total: int | None = None
    included: int | None = None
    ignored: int | None = None
    skipped: int | None = None
    bytes: int | None = None


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the scan's status history."""

    name: str
    status: str
    stage: str | None = None
    detail: str | None = None
    at: dt.datetime


class ScanInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The scan as the report describes it."""

    id: uuid.UUID
    project: str
    status: str
    error: str | None = None
    source: Source
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    files: FileCounts
    languages: dict[str, int] = msgspec.field(default_factory=dict)
    score: int | None = None
    grade: str | None = None
    history: list[Step] = msgspec.field(default_factory=list)


class ReportFinding(msgspec.Struct, frozen=True, kw_only=True):
    """A reported finding: where, what, why it matters and how to fix it (evidence masked)."""

    id: uuid.UUID
    fingerprint: str
    scanner: str
    reported_by: list[str] = msgspec.field(default_factory=list)
    rule_id: str
    title: str
    severity: str
    confidence: str
    cwe: list[str] = msgspec.field(default_factory=list)
    owasp: list[str] = msgspec.field(default_factory=list)
    file_path: str
    start_line: int
    end_line: int
    snippet: str = ""
    evidence: str = ""
    description: str = ""
    recommendation: str = ""
    # Triage: unreviewed, valid, invalid (false positive) or acknowledged (accepted risk).
    validity: str = "unreviewed"
    validity_reason: str | None = None
    first_seen_at: dt.datetime | None = None


class FilterReason(msgspec.Struct, frozen=True):
    """How many findings were filtered for one kind of reason."""

    reason: str
    count: int


class Filtered(msgspec.Struct, frozen=True, kw_only=True):
    """Findings the validator filtered as false positives or duplicates, counted by reason."""

    total: int = 0
    reasons: list[FilterReason] = msgspec.field(default_factory=list)


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a report shows; the ``json`` format is this, encoded."""

    report_version: int = REPORT_VERSION
    scan: ScanInfo
    severity_counts: dict[str, int]
    findings: list[ReportFinding]
    filtered: Filtered = msgspec.field(default_factory=Filtered)


def count_severities(findings: list[ReportFinding]) -> dict[str, int]:
    """Findings per severity, every severity present, most severe first."""
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts
