"""Restoring a filtered finding: a person overrules the validator's dismissal.

``PATCH /v1/findings/{id}`` with ``{"status": "reported", "reason": …}`` moves a ``filtered``
finding back to ``reported``. Only a filtered finding of a finished scan can be restored (the
validator rewrites every decision while it runs). The validator's reason is not lost: it moves
to ``provenance.restored`` with the person's reason, key and time, and the audit log records
both. The scan's score, grade, launch readiness, summary and severity counts are recomputed
from its reported findings in the same transaction (docs/ai.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import asyncpg

from vigil_common import scorecard
from vigil_common.scans import TERMINAL
from vigil_gateway import audit
from vigil_gateway.errors import ApiError
from vigil_gateway.keys import Principal

_RESTORE: Final = """
UPDATE findings SET status = 'reported', filter_reason = NULL, duplicate_of = NULL,
    provenance = provenance || jsonb_build_object('restored', $2::jsonb)
WHERE id = $1 AND status = 'filtered'
RETURNING id
"""


def not_filtered(status: str) -> ApiError:
    """Only filtered findings can be restored."""
    return ApiError(
        409, "not_filtered", f"only a filtered finding can be restored; this one is {status}"
    )


def scan_not_finished(status: str) -> ApiError:
    """The validator may still rewrite the decision: wait for the scan to finish."""
    return ApiError(
        409,
        "scan_not_finished",
        "the finding's scan has not finished; restore it once it ends",
        {"status": status},
    )


async def restore(
    conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record],
    principal: Principal,
    finding: asyncpg.Record,
    reason: str,
) -> None:
    """Move ``finding`` back to reported, keep the validator's reason, re-score its scan."""
    # Locks the scan row: a concurrent restore in the same scan re-scores after this one.
    scan_status = await conn.fetchval(
        "SELECT status FROM scans WHERE id = $1 FOR UPDATE", finding["scan_id"]
    )
    if scan_status not in TERMINAL:
        raise scan_not_finished(scan_status)
    if finding["status"] != "filtered":
        raise not_filtered(finding["status"])
    restored: dict[str, Any] = {
        "reason": reason,
        "filter_reason": finding["filter_reason"],
        "duplicate_of": str(finding["duplicate_of"]) if finding["duplicate_of"] else None,
        "key_id": str(principal.key_id) if principal.key_id else None,
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    if await conn.fetchval(_RESTORE, finding["id"], restored) is None:
        raise not_filtered("no longer filtered")  # restored by a concurrent request
    details = {
        "from": "filtered",
        "to": "reported",
        "filter_reason": finding["filter_reason"],
        "reason": reason,
    }
    await audit.record(conn, principal, "finding.restored", "finding", finding["id"], details)
    await scorecard.rescore(conn, finding["scan_id"], counts=True)
