"""The validator's view of a scan's findings: read them, decide on each, write the decisions.

Every decision is recomputed from the stored findings, so a redelivered message reaches the
same result. Nothing is deleted: a dismissed finding is kept as ``filtered`` with its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final, Literal

import msgspec

from vigil_common.db import Pool
from vigil_common.schemas import Confidence, Severity

Status = Literal["reported", "filtered"]

SEVERITY_RANK: Final[dict[str, int]] = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
CONFIDENCE_RANK: Final[dict[str, int]] = {"high": 2, "medium": 1, "low": 0}


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One stored finding as the validator judges it."""

    id: uuid.UUID
    fingerprint: str
    scanner: str
    rule_id: str
    title: str
    description: str = ""
    severity: Severity
    confidence: Confidence
    cwe: tuple[str, ...] = ()
    file_path: str
    start_line: int
    end_line: int
    snippet: str = ""
    # A person's triage (inherited from earlier scans of the project): ``valid`` findings are
    # never filtered by rules or the model, so a restored finding stays restored next time.
    validity: str = "unreviewed"


class Decision(msgspec.Struct, kw_only=True):
    """What the validator concluded about one finding (mutable while the stages decide)."""

    status: Status = "reported"
    filter_reason: str | None = None
    duplicate_of: uuid.UUID | None = None
    severity: Severity
    confidence: Confidence
    cwe: list[str]
    reported_by: list[str]
    verdict: dict[str, Any] | None = None

    def dismiss(self, reason: str) -> None:
        """Filter the finding with ``reason`` (kept, listed, restorable by triage)."""
        self.status = "filtered"
        self.filter_reason = reason


def initial(candidate: Candidate) -> Decision:
    """The decision before any stage: reported as the scanner said."""
    return Decision(
        severity=candidate.severity,
        confidence=candidate.confidence,
        cwe=list(candidate.cwe),
        reported_by=[candidate.scanner],
    )


_SELECT: Final = (
    "SELECT id, fingerprint, scanner, rule_id, title, description, severity, confidence, cwe,"
    " file_path, start_line, end_line, snippet, validity FROM findings WHERE scan_id = $1"
    " ORDER BY file_path, start_line, fingerprint"
)
_UPDATE: Final = """
UPDATE findings SET status = $2, filter_reason = $3, duplicate_of = $4, severity = $5,
    confidence = $6, cwe = $7, reported_by = $8,
    provenance = CASE WHEN $9::jsonb IS NULL THEN provenance - 'verdict'
                      ELSE provenance || jsonb_build_object('verdict', $9::jsonb) END
WHERE id = $1
"""


async def load(pool: Pool, scan_id: uuid.UUID) -> list[Candidate]:
    """Every finding of the scan, whatever an earlier delivery decided about it."""
    rows = await pool.fetch(_SELECT, scan_id)
    return [msgspec.convert(dict(row), Candidate) for row in rows]


async def save(pool: Pool, decisions: Iterable[tuple[uuid.UUID, Decision]]) -> None:
    """Write every decision in one transaction."""
    rows = [
        (
            finding_id,
            d.status,
            d.filter_reason,
            d.duplicate_of,
            d.severity,
            d.confidence,
            d.cwe,
            d.reported_by,
            d.verdict,
        )
        for finding_id, d in decisions
    ]
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(_UPDATE, rows)
