"""The stuck-scan reaper: a scan that made no progress for too long is failed with a reason.

A scan can stop moving without any stage failing it: its message was lost (a stream purged, a
broker's disk replaced), or every worker of a stage is gone for good. Such a scan would stay
``queued`` or ``running`` forever and hold one of its organisation's admission slots. The
reaper (run by every gateway replica, see :func:`reap_forever`) fails it with
``stuck: no progress in <stage> for N s`` and publishes ``scan.failed``, so webhooks fire and
the notifier admits the organisation's next scan.

Progress is the latest of the scan row's ``updated_at`` (every stage start, including each
redelivery, bumps it), its ``admitted_at`` and its newest history row. Only admitted scans are
considered: a scan waiting for a fair-use slot or for its upload is not stuck.

Several replicas may sweep at once: each claims rows with ``FOR UPDATE SKIP LOCKED`` and the
UPDATE matches only scans still in progress, so a scan is reaped once. The failure is
committed only after ``scan.failed`` was published, so a bus outage leaves the scan for the
next sweep instead of failing it silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from nats.js import JetStreamContext

from vigil_common import bus, metrics
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.logs import scan_context
from vigil_common.scans import record_event
from vigil_common.schemas import ScanFailed
from vigil_common.subjects import SCAN_FAILED

log = logging.getLogger(__name__)

REAP_BATCH: Final = 100

_REAP: Final = """
WITH stuck AS (
    SELECT s.id FROM scans s
    WHERE s.status IN ('queued', 'running')
      AND (s.status = 'running' OR s.admitted_at IS NOT NULL)
      AND greatest(
            s.updated_at, s.admitted_at,
            (SELECT max(e.at) FROM scan_events e WHERE e.scan_id = s.id)
          ) < now() - make_interval(secs => $1)
    ORDER BY s.updated_at LIMIT $2
    FOR UPDATE OF s SKIP LOCKED
)
UPDATE scans s SET status = 'failed', finished_at = now(), updated_at = now(),
    error = format('stuck: no progress in %s for %s s', coalesce(s.stage, 'queue'), $3::text)
FROM stuck WHERE s.id = stuck.id AND s.status IN ('queued', 'running')
RETURNING s.id, s.org_id, s.stage, s.error
"""


async def reap_stuck(pool: Pool, js: JetStreamContext, timeout_seconds: float) -> int:
    """Fail every scan without progress for ``timeout_seconds``; returns how many.

    Raises :class:`vigil_common.errors.Retry` when ``scan.failed`` cannot be published; the
    transaction is then rolled back and the scans stay for the next sweep.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_REAP, timeout_seconds, REAP_BATCH, f"{timeout_seconds:g}")
        for row in rows:
            await record_event(conn, row["id"], "failed", "failed", row["stage"], row["error"])
        for row in rows:
            event = ScanFailed(
                scan_id=row["id"], org_id=row["org_id"], reason=row["error"], stage=row["stage"]
            )
            await bus.publish(js, SCAN_FAILED, event)
    for row in rows:
        metrics.SCANS_FINISHED.labels("failed").inc()
        with scan_context(row["id"]):
            log.warning("stuck scan failed", extra={"reason": row["error"], "stage": row["stage"]})
    return len(rows)


async def reap_forever(pool: Pool, js: JetStreamContext, settings: Settings) -> None:
    """Sweep every ``VIGIL_STUCK_SCAN_SWEEP_SECONDS`` until cancelled."""
    while True:
        try:
            await reap_stuck(pool, js, settings.stuck_scan_timeout_seconds)
        except Exception:  # a failed sweep (database or bus away) must not stop later ones
            log.exception("stuck-scan sweep failed; trying again at the next sweep")
        await asyncio.sleep(settings.stuck_scan_sweep_seconds)
