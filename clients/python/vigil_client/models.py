"""The API's resources as the client sees them (msgspec Structs, decoded from JSON).

They mirror the gateway's response bodies without importing the server package; a test
checks every field here against the OpenAPI document the gateway serves, so they cannot
drift. Unknown fields are ignored, so a newer server does not break an older client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal

import msgspec

SEVERITIES: Final = ("info", "low", "medium", "high", "critical")
TERMINAL_STATUSES: Final = frozenset({"completed", "failed"})
Severity = Literal["info", "low", "medium", "high", "critical"]
Validity = Literal["unreviewed", "valid", "invalid", "acknowledged"]
ArchiveType = Literal["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"]


class Model(msgspec.Struct, kw_only=True):
    """Base of every resource: keyword construction, unknown fields ignored (the default)."""


class Source(Model):
    """Where the scanned code came from."""

    type: str
    format: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    commit: str | None = None
    language_hint: str | None = None


class FileCounts(Model):
    """Files ingest counted (``None`` until ingest has run)."""

    total: int | None = None
    bytes: int | None = None
    included: int | None = None
    included_bytes: int | None = None
    ignored: int | None = None
    skipped: int | None = None


class HistoryEntry(Model):
    """One step of a scan's history."""

    name: str
    status: str
    stage: str | None
    detail: str | None
    at: dt.datetime


class Finding(Model):
    """One finding of a scan."""

    id: str
    scan_id: str
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
    reported_by: list[str]
    duplicate_of: str | None
    validity: str
    validity_reason: str | None
    validity_until: dt.datetime | None
    first_seen_scan_id: str | None
    first_seen_at: dt.datetime
    created_at: dt.datetime


class UploadTarget(Model):
    """Where to PUT the archive of a scan created without one."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: dt.datetime


class Scan(Model):
    """A scan; listings leave out the fields that have defaults here."""

    id: str
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
    score: int | None = None
    grade: str | None = None
    languages: dict[str, int] = msgspec.field(default_factory=dict)
    queue_position: int | None = None
    history: list[HistoryEntry] = msgspec.field(default_factory=list)
    findings: list[Finding] | None = None
    upload: UploadTarget | None = None

    @property
    def finished(self) -> bool:
        """Whether the scan reached a terminal state (which never changes)."""
        return self.status in TERMINAL_STATUSES


class ScanPage(Model):
    """A page of scans, newest first."""

    items: list[Scan]
    next_cursor: str | None


class FindingPage(Model):
    """A page of findings, newest first."""

    items: list[Finding]
    next_cursor: str | None


class Key(Model):
    """An API key as listings show it (never the key itself)."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewKey(Key):
    """A key just created: ``key`` is shown this once."""

    key: str


class KeyList(Model):
    """The organisation's keys."""

    items: list[Key]


class Webhook(Model):
    """A webhook endpoint (never its secret)."""

    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class NewWebhook(Webhook):
    """A webhook endpoint just created: ``secret`` is shown this once."""

    secret: str


class WebhookList(Model):
    """The organisation's webhook endpoints."""

    items: list[Webhook]


class RotatedSecret(Model):
    """A webhook's new secret, shown once; the previous one signs until it expires."""

    secret: str
    previous_secret_expires_at: dt.datetime | None


class Attempt(Model):
    """One attempt of a webhook delivery."""

    attempted_at: dt.datetime
    status: int | None
    latency_ms: int
    error: str | None


class Delivery(Model):
    """One event sent (or being sent) to a webhook endpoint."""

    id: str
    event_id: str
    event_type: str
    scan_id: str | None
    state: str
    attempts: list[Attempt]
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryPage(Model):
    """A page of deliveries, newest first."""

    items: list[Delivery]
    next_cursor: str | None


class Organisation(Model):
    """The caller's organisation."""

    id: str
    name: str


class Me(Model):
    """Who is calling: organisation and key."""

    organisation: Organisation
    key: Key


class ErrorBody(Model):
    """The ``error`` member of every error response."""

    code: str
    message: str
    request_id: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorResponse(Model):
    """``{"error": …}``."""

    error: ErrorBody
