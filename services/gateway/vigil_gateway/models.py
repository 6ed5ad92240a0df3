"""Response bodies of the scan API (msgspec Structs, encoded as JSON)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class Source(msgspec.Struct):
    """Where the scanned code came from."""

    type: str
    format: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    commit: str | None = None


class FileCounts(msgspec.Struct):
    """What ingest counted in the source tree (null until ingest has run)."""

    total: int | None = None
    bytes: int | None = None


class HistoryEntry(msgspec.Struct):
    """One step of the scan's status history."""

    name: str
    status: str
    stage: str | None
    detail: str | None
    at: dt.datetime


class FindingOut(msgspec.Struct):
    """A finding as the API shows it."""

    id: uuid.UUID
    fingerprint: str
    scanner: str
    rule_id: str
    severity: str
    confidence: str
    title: str
    description: str
    recommendation: str
    cwe: list[str]
    owasp: list[str]
    file_path: str
    start_line: int
    end_line: int
    snippet: str
    status: str
    filter_reason: str | None


class ScanOut(msgspec.Struct):
    """A scan: status and stage, source, counts, history and (once known) its findings."""

    id: uuid.UUID
    project: str
    status: str
    stage: str | None
    error: str | None
    source: Source
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    files: FileCounts
    languages: dict[str, int]
    finding_counts: dict[str, int]
    history: list[HistoryEntry]
    findings: list[FindingOut]
