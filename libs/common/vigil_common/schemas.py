"""Every wire type: pipeline events (one per subject), findings and the source-tree manifest.

Schema evolution: events ignore unknown fields and every field added later has a default, so
an old consumer keeps working while a newer producer rolls out. ``v`` is bumped only for a
change old consumers cannot read; they then reject the message with a clear reason.
"""

from __future__ import annotations

import uuid
from typing import Final, Literal

import msgspec

SCHEMA_VERSION: Final = 1

Severity = Literal["critical", "high", "medium", "low", "info"]
Confidence = Literal["high", "medium", "low"]
SEVERITIES: Final[tuple[Severity, ...]] = ("critical", "high", "medium", "low", "info")


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the pipeline events: ids and object keys only, never source code or secrets."""

    v: int = SCHEMA_VERSION
    scan_id: uuid.UUID
    org_id: uuid.UUID


class ScanRef(msgspec.Struct, frozen=True):
    """The least of any event: enough to fail its scan when the rest does not decode."""

    scan_id: uuid.UUID


class ScanRequested(Event, frozen=True, kw_only=True):
    """A scan was created and its source is ready to fetch."""

    source_type: Literal["upload", "git"]
    upload_key: str | None = None
    archive_format: str = "zip"
    repo_url: str | None = None
    ref: str | None = None
    # The per-request git token, sealed for ingest (vigil_common.sealing, purpose "git-token").
    git_token_sealed: str | None = None


class TreeStored(Event, frozen=True, kw_only=True):
    """Base of the events after ingest: where the normalised source tree lives."""

    tree_key: str
    manifest_key: str


class ScanIngested(TreeStored, frozen=True, kw_only=True):
    """The source tree is normalised and stored in S3 (and, if asked, the git history)."""

    history_key: str | None = None


class ScanStaticDone(TreeStored, frozen=True, kw_only=True):
    """Static scanners have written their candidate findings."""


class ScanHunted(TreeStored, frozen=True, kw_only=True):
    """The AI hunter has written its candidate findings (or recorded why it did not run)."""


class ScanCompleted(Event, frozen=True, kw_only=True, tag_field="type", tag="scan.completed"):
    """The scan finished; findings are final."""

    findings: int = 0
    severity_counts: dict[str, int] = msgspec.field(default_factory=dict)
    # The validator's security score (0-100) and letter grade (A-F); see docs/ai.md.
    score: int | None = None
    grade: str | None = None


class ScanFailed(Event, frozen=True, kw_only=True, tag_field="type", tag="scan.failed"):
    """The scan ended without a result; ``reason`` says why, for the user."""

    reason: str
    stage: str | None = None


ScanFinished = ScanCompleted | ScanFailed
"""The two terminal events, told apart by their ``type`` field."""


class FindingTriaged(Event, frozen=True, kw_only=True, tag_field="type", tag="finding.triaged"):
    """Someone set a finding's validity; ``triage_id`` names this one decision."""

    triage_id: uuid.UUID
    finding_id: uuid.UUID
    validity: str
    reason: str | None = None


NotifierEvent = ScanCompleted | ScanFailed | FindingTriaged
"""Everything the notifier consumes, told apart by ``type``."""


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One candidate issue as every scanner adapter reports it."""

    scanner: str
    rule_id: str
    title: str
    severity: Severity
    confidence: Confidence = "medium"
    description: str = ""
    recommendation: str = ""
    cwe: tuple[str, ...] = ()
    owasp: tuple[str, ...] = ()
    file_path: str
    start_line: int
    end_line: int
    snippet: str = ""
    # What proves it, masked (a secret's kind and last characters): never the secret itself.
    evidence: str = ""
    fingerprint: str


class ManifestFile(msgspec.Struct, frozen=True):
    """One file of a normalised source tree."""

    path: str
    size: int
    sha256: str
    language: str | None = None
    lines: int = 0


class TreeManifest(msgspec.Struct, frozen=True, kw_only=True):
    """What ingest stored: the files of the tree and its totals (stored beside the archive)."""

    files: list[ManifestFile]
    total_files: int
    total_bytes: int
    languages: dict[str, int] = msgspec.field(default_factory=dict)
    language_lines: dict[str, int] = msgspec.field(default_factory=dict)
    ignored_files: int = 0
    skipped_files: dict[str, str] = msgspec.field(default_factory=dict)
    commit_sha: str | None = None
