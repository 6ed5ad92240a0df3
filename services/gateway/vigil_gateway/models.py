"""Request and response bodies of the v1 API (msgspec Structs, encoded as JSON)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

SourceType = Literal["zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "git"]


class CreateScan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/scans`` with a JSON body: an archive to upload next, or a git repository."""

    source_type: SourceType
    project: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    git_token: str | None = None
    language: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9+#._-]{1,40}$")] | None = None
    callback_url: str | None = None
    callback_secret: str | None = None


class Source(msgspec.Struct):
    """Where the scanned code came from, and the language the caller said it is in."""

    type: str
    format: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    commit: str | None = None
    language_hint: str | None = None


class FileCounts(msgspec.Struct):
    """What ingest counted (null until ingest has run): every file found, the files scanned,
    those ignored (vendored, generated, ``.vigilignore``) and those skipped as risky."""

    total: int | None = None
    bytes: int | None = None
    included: int | None = None
    included_bytes: int | None = None
    ignored: int | None = None
    skipped: int | None = None


class SkippedFile(msgspec.Struct):
    """A file left out of the scan, and why (binary, oversized …)."""

    path: str
    reason: str


class LanguageStats(msgspec.Struct):
    """Files and lines of code in one language."""

    files: int
    lines: int


class Complexity(msgspec.Struct):
    """How big and varied the code is: a 0-100 score and its label (docs/ingest.md)."""

    score: int
    label: str


class LaunchBlocker(msgspec.Struct):
    """One kind of issue that should stop a launch (docs/ai.md), and the findings behind it."""

    kind: str
    count: int
    message: str
    finding_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


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
    scan_id: uuid.UUID
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
    evidence: str
    status: str
    filter_reason: str | None
    # Scanners that found it (merged duplicates included); a filtered duplicate's survivor.
    reported_by: list[str]
    duplicate_of: uuid.UUID | None
    validity: str
    validity_reason: str | None
    validity_until: dt.datetime | None
    first_seen_scan_id: uuid.UUID | None
    first_seen_at: dt.datetime
    created_at: dt.datetime
    # Where an AI finding came from ({model, prompt_version, reasoning}), the model's verdict
    # (``verdict``: model, prompt_version, verdict, confidence, reason, evidence_lines) and a
    # person's restore (``restored``); docs/ai.md.
    provenance: dict[str, Any] = msgspec.field(default_factory=dict)


class UploadTarget(msgspec.Struct):
    """Where to PUT the archive of a scan created without one (valid until ``expires_at``)."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: dt.datetime


class ScanSummary(msgspec.Struct, kw_only=True):
    """A scan in listings: status and stage, source, counts."""

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
    finding_counts: dict[str, int]
    # The validator's 0-100 security score and A-F grade (docs/ai.md); null until validated.
    score: int | None = None
    grade: str | None = None
    # 0-100: the score when nothing blocks a launch, at most 49 otherwise (docs/ai.md).
    launch_readiness: int | None = None


class LLMUsage(msgspec.Struct, kw_only=True):
    """What one AI stage spent on a scan (docs/ai.md): calls, tokens and estimated cost.

    ``cached_calls`` of the ``calls`` were answered from the response cache and cost nothing;
    ``cost_usd`` is 0 unless the server's prices are configured.
    """

    model: str = ""
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    embedding_tokens: int = 0
    failures: int = 0
    cost_usd: float = 0.0


class ScanOut(ScanSummary, kw_only=True):
    """One scan in full: adds languages, history, findings when asked for, and upload target."""

    languages: dict[str, int] = msgspec.field(default_factory=dict)
    language_stats: dict[str, LanguageStats] = msgspec.field(default_factory=dict)
    complexity: Complexity | None = None
    skipped_files: list[SkippedFile] = msgspec.field(default_factory=list)
    # While the organisation runs its cap of scans: this scan's place in its queue (1: next).
    queue_position: int | None = None
    history: list[HistoryEntry] = msgspec.field(default_factory=list)
    # What blocks a launch, and the scan in plain words (built from counts, no model).
    launch_blockers: list[LaunchBlocker] = msgspec.field(default_factory=list)
    summary: str | None = None
    findings: list[FindingOut] | None = None
    upload: UploadTarget | None = None
    # The static stage's endpoint index (GET /v1/scans/{id}/endpoints) and whether the tree
    # implements an MCP server; null until the static stage has indexed the scan.
    endpoint_count: int | None = None
    is_mcp_server: bool | None = None
    # LLM usage by AI stage ("hunt", "validate"); empty when no model was asked.
    llm_usage: dict[str, LLMUsage] = msgspec.field(default_factory=dict)


class ScanList(msgspec.Struct):
    """A page of scans, newest first; pass ``next_cursor`` as ``?cursor=`` for the next."""

    items: list[ScanSummary]
    next_cursor: str | None


class FindingList(msgspec.Struct):
    """A page of findings, newest first; pass ``next_cursor`` as ``?cursor=`` for the next."""

    items: list[FindingOut]
    next_cursor: str | None


Validity = Literal["unreviewed", "valid", "invalid", "acknowledged"]


class Triage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /v1/findings/{id}``: the verdict, why, and for an accepted risk until when.

    ``status: "reported"`` restores a finding the validator filtered (a reason is required);
    it may come alone or with a ``validity``.
    """

    validity: Validity | None = None
    status: Literal["reported"] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    until: dt.datetime | None = None


class NewComment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/findings/{id}/comments``."""

    body: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class CommentOut(msgspec.Struct):
    """A comment on a finding."""

    id: uuid.UUID
    finding_id: uuid.UUID
    key_id: uuid.UUID | None
    body: str
    created_at: dt.datetime


class CommentList(msgspec.Struct):
    """A finding's comments, oldest first."""

    items: list[CommentOut]


class ScanDiff(msgspec.Struct):
    """What changed since the base scan, compared by fingerprint (reported findings)."""

    scan_id: uuid.UUID
    base_scan_id: uuid.UUID | None
    new: list[FindingOut]
    fixed: list[FindingOut]
    unchanged: list[FindingOut]


class AuditEntry(msgspec.Struct):
    """One recorded action on keys or triage."""

    id: uuid.UUID
    key_id: uuid.UUID | None
    action: str
    target_type: str
    target_id: uuid.UUID | None
    details: dict[str, Any]
    created_at: dt.datetime


class AuditList(msgspec.Struct):
    """A page of the audit log, newest first."""

    items: list[AuditEntry]
    next_cursor: str | None
