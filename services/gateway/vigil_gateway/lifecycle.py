"""Deleting scans with everything they produced, on request and when retention runs out.

A scan's rows (history, findings, comments, deliveries) go by cascade; its objects in S3
(``uploads/<id>…``, ``trees/<id>/``, ``reports/<id>/``) are deleted by prefix. Retention runs
in every gateway replica, but one at a time (a PostgreSQL advisory lock), and only touches
finished scans.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from vigil_common.db import Pool
from vigil_common.reaper import reap_forever
from vigil_common.storage import ObjectStore
from vigil_gateway.appkeys import JETSTREAM, POOL, SETTINGS, STORE

log = logging.getLogger(__name__)

SWEEP_LOCK: Final = 0x7669676C72  # "viglr": one retention sweep at a time across replicas
SWEEP_BATCH: Final = 100


async def delete_scan(
    pool: Pool, store: ObjectStore, org_id: uuid.UUID, scan_id: uuid.UUID
) -> bool:
    """Delete the scan, its rows and its objects; False if the organisation has no such scan."""
    deleted = await pool.fetchval(
        "DELETE FROM scans WHERE id = $1 AND org_id = $2 RETURNING id", scan_id, org_id
    )
    if deleted is None:
        return False
    for prefix in (f"uploads/{scan_id}", f"trees/{scan_id}/", f"reports/{scan_id}/"):
        await store.delete_prefix(prefix)
    return True


_EXPIRED: Final = """
SELECT s.id, s.org_id FROM scans s JOIN organisations o ON o.id = s.org_id
WHERE s.finished_at IS NOT NULL
  AND coalesce(o.retention_days, nullif($1, 0)) IS NOT NULL
  AND s.finished_at < now() - make_interval(days => coalesce(o.retention_days, $1))
ORDER BY s.finished_at LIMIT $2
"""


async def sweep_expired(pool: Pool, store: ObjectStore, default_days: int) -> int:
    """Delete finished scans past their organisation's retention; returns how many."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK):
            return 0  # another replica is sweeping
        try:
            rows = await conn.fetch(_EXPIRED, default_days, SWEEP_BATCH)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK)
    for row in rows:
        await delete_scan(pool, store, row["org_id"], row["id"])
    if rows:
        log.info("retention deleted scans", extra={"count": len(rows)})
    return len(rows)


async def retention_loop(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: sweep now and then while the gateway runs."""

    async def sweep_forever() -> None:
        while True:
            try:
                await sweep_expired(app[POOL], app[STORE], app[SETTINGS].retention_days)
            except Exception:  # a failed sweep must not stop later ones
                log.exception("retention sweep failed")
            await asyncio.sleep(app[SETTINGS].retention_sweep_seconds)

    task = asyncio.create_task(sweep_forever())
    # The stuck-scan reaper shares this loop's lifetime (vigil_common.reaper, docs/reliability.md).
    reaper = asyncio.create_task(reap_forever(app[POOL], app[JETSTREAM], app[SETTINGS]))
    yield
    task.cancel()
    reaper.cancel()
    await asyncio.gather(task, reaper, return_exceptions=True)
