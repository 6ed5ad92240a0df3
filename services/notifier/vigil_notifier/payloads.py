"""The documented webhook payloads (``docs/webhooks.md``), built from the scan's rows.

Every delivery body is ``{"id", "type", "timestamp", "data"}``. The event id is derived from the
scan and the event type, so a redelivered JetStream message yields the same id and receivers
can de-duplicate on it (it is also the ``webhook-id`` header).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Final, Literal

import asyncpg
import msgspec

from vigil_common.schemas import FindingTriaged

EventType = Literal["scan.completed", "scan.failed", "finding.triaged"]
EVENT_TYPES: Final[tuple[EventType, ...]] = ("scan.completed", "scan.failed", "finding.triaged")
# A fixed namespace so event ids are stable across processes and restarts.
EVENT_NAMESPACE: Final = uuid.UUID("6f1c3f0e-3a51-4d57-9d0a-7b6f0c5e9a11")


class FindingSummary(msgspec.Struct, frozen=True):
    """A finding as a webhook carries it: enough to triage, no code."""

    id: uuid.UUID
    rule_id: str
    severity: str
    title: str
    file_path: str
    start_line: int


class ScanData(msgspec.Struct, frozen=True, kw_only=True):
    """``data`` of ``scan.completed`` and ``scan.failed``."""

    scan_id: uuid.UUID
    status: str
    project: str
    repo_url: str | None
    commit: str | None
    score: float | None = None
    grade: str | None = None
    severity_counts: dict[str, int]
    error: str | None
    findings: list[FindingSummary]
    findings_truncated: bool
    link: str


class FindingTriagedData(msgspec.Struct, frozen=True, kw_only=True):
    """``data`` of ``finding.triaged``: the finding, its scan, the new validity and why."""

    finding_id: uuid.UUID
    scan_id: uuid.UUID
    status: str
    note: str | None = None


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every delivery."""

    id: uuid.UUID
    type: EventType
    timestamp: dt.datetime
    data: ScanData | FindingTriagedData


def event_id(scan_id: uuid.UUID, event_type: EventType) -> uuid.UUID:
    """The one id of this scan's event, whichever process builds it and however often."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{scan_id}:{event_type}")


def scan_link(scan_id: uuid.UUID, public_url: str | None) -> str:
    """Where the scan is read through the API: absolute when ``VIGIL_PUBLIC_URL`` is set."""
    path = f"/v1/scans/{scan_id}"
    return public_url.rstrip("/") + path if public_url else path


def scan_event(
    event_type: EventType,
    scan: asyncpg.Record,
    findings: Sequence[asyncpg.Record],
    max_findings: int,
    public_url: str | None,
) -> WebhookEvent:
    """The ``scan.completed`` / ``scan.failed`` event of a finished scan.

    ``findings`` may hold one more row than ``max_findings``: that is how truncation is known.
    """
    data = ScanData(
        scan_id=scan["id"],
        status=scan["status"],
        project=scan["project"],
        repo_url=scan["repo_url"],
        commit=scan["commit_sha"],
        score=scan["score"],
        grade=scan["grade"],
        severity_counts=dict(scan["finding_counts"] or {}),
        error=scan["error"],
        findings=[_summary(row) for row in findings[:max_findings]],
        findings_truncated=len(findings) > max_findings,
        link=scan_link(scan["id"], public_url),
    )
    timestamp = scan["finished_at"] or scan["updated_at"]
    return WebhookEvent(
        id=event_id(scan["id"], event_type), type=event_type, timestamp=timestamp, data=data
    )


def triage_event(event: FindingTriaged) -> WebhookEvent:
    """The ``finding.triaged`` event of one triage decision (its id names the decision)."""
    data = FindingTriagedData(
        finding_id=event.finding_id, scan_id=event.scan_id, status=event.validity,
        note=event.reason,
    )  # fmt: skip
    return WebhookEvent(
        id=uuid.uuid5(EVENT_NAMESPACE, f"triage:{event.triage_id}"),
        type="finding.triaged",
        timestamp=dt.datetime.now(dt.UTC),
        data=data,
    )


def _summary(row: asyncpg.Record) -> FindingSummary:
    return FindingSummary(
        row["id"],
        row["rule_id"],
        row["severity"],
        row["title"],
        row["file_path"],
        row["start_line"],
    )
