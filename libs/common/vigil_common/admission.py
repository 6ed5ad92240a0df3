"""Fair use between organisations: at most N scans of one organisation run at once.

A new scan's ``scan.requested`` event is kept on its row (``pending_request``) and published
only when the organisation has a free slot; the rest wait, oldest first, and show their place
in the queue. Whenever a scan ends, the notifier (which sees every terminal event) admits the
next ones. Admission holds a per-organisation transaction lock, so concurrent gateways and
notifiers never admit past the cap. The kept request is cleared once published: a sealed git
token does not linger.
"""

from __future__ import annotations

import logging
import uuid
from typing import Final

import msgspec
from nats.js import JetStreamContext

from vigil_common import bus, scans
from vigil_common.db import Pool
from vigil_common.errors import Retry
from vigil_common.schemas import ScanRequested
from vigil_common.subjects import SCAN_REQUESTED

log = logging.getLogger(__name__)

UNLIMITED: Final = 1_000_000

_PICK: Final = """
WITH picked AS (
    SELECT id, pending_request FROM scans
    WHERE org_id = $1 AND status = 'queued' AND admitted_at IS NULL
      AND pending_request IS NOT NULL
    ORDER BY created_at, id LIMIT $2
)
UPDATE scans s SET admitted_at = now(), pending_request = NULL
FROM picked WHERE s.id = picked.id
RETURNING picked.pending_request
"""


async def request_scan(pool: Pool, js: JetStreamContext, event: ScanRequested, cap: int) -> None:
    """Keep the scan's request and publish it as soon as the organisation has a slot."""
    await pool.execute(
        "UPDATE scans SET pending_request = $2 WHERE id = $1",
        event.scan_id,
        msgspec.to_builtins(event),
    )
    await admit(pool, js, event.org_id, cap)


async def admit(pool: Pool, js: JetStreamContext, org_id: uuid.UUID, cap: int) -> int:
    """Publish the organisation's waiting scans that fit under ``cap``; returns how many."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", str(org_id))
        active = await conn.fetchval(
            "SELECT count(*) FROM scans WHERE org_id = $1 AND admitted_at IS NOT NULL"
            " AND status IN ('queued', 'running')",
            org_id,
        )
        slots = max((cap or UNLIMITED) - active, 0)
        rows = await conn.fetch(_PICK, org_id, slots) if slots else []
    for row in rows:
        await _publish(pool, js, msgspec.convert(row["pending_request"], ScanRequested))
    return len(rows)


async def _publish(pool: Pool, js: JetStreamContext, event: ScanRequested) -> None:
    try:
        await bus.publish(js, SCAN_REQUESTED, event)
    except Retry:
        # Admitted but not sent: fail it rather than leave it waiting for nothing.
        log.error("could not publish an admitted scan", extra={"scan_id": str(event.scan_id)})
        await scans.fail_scan(
            pool, event.scan_id, "the scan could not be queued: the message bus is unavailable"
        )
