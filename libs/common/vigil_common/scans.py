"""The scan state machine in PostgreSQL: every status change and history row goes through here.

``created → queued → running (stage: ingest, static, hunt, validate) → completed | failed |
cancelled``. Terminal states never change: every transition is a conditional UPDATE that
matches only scans still in progress, so a redelivered or late message cannot undo an end.
History rows are keyed by ``(scan, name)`` and written once, however often a stage runs.
"""

from __future__ import annotations

import uuid
from typing import Final

import asyncpg

from vigil_common import metrics
from vigil_common.db import Executor, Pool

TERMINAL: Final = ("completed", "failed", "cancelled")
_ACTIVE: Final = ("queued", "running")


async def record_event(
    conn: Executor,
    scan_id: uuid.UUID,
    name: str,
    status: str,
    stage: str | None = None,
    detail: str | None = None,
) -> None:
    """Append a step to the scan's history unless that step is already recorded."""
    await conn.execute(
        "INSERT INTO scan_events (scan_id, name, status, stage, detail) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (scan_id, name) DO NOTHING",
        scan_id,
        name,
        status,
        stage,
        detail,
    )


async def fetch_scan(pool: Pool, scan_id: uuid.UUID) -> asyncpg.Record | None:
    """The scan row, or ``None``."""
    return await pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan_id)


async def start_stage(pool: Pool, scan_id: uuid.UUID, stage: str) -> asyncpg.Record | None:
    """Mark the scan running in ``stage``; ``None`` when it already ended (e.g. cancelled).

    A stage that gets ``None`` does no work and passes nothing on.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE scans SET status = 'running', stage = $2,"
            " started_at = coalesce(started_at, now()), updated_at = now()"
            " WHERE id = $1 AND status = ANY($3::text[]) RETURNING *",
            scan_id,
            stage,
            list(_ACTIVE),
        )
        if row is not None:
            await record_event(conn, scan_id, f"{stage}.started", "running", stage)
        return row


async def finish_stage(
    pool: Pool, scan_id: uuid.UUID, stage: str, detail: str | None = None
) -> None:
    """Record that ``stage`` finished its work for the scan, with an optional note.

    Nothing is recorded once the scan ended (cancelled meanwhile, say): its history stops at
    the end.
    """
    await pool.execute(
        "INSERT INTO scan_events (scan_id, name, status, stage, detail)"
        " SELECT $1, $2, 'running', $3, $4 WHERE EXISTS"
        " (SELECT 1 FROM scans WHERE id = $1 AND status = 'running')"
        " ON CONFLICT (scan_id, name) DO NOTHING",
        scan_id,
        f"{stage}.done",
        stage,
        detail,
    )


async def fail_scan(pool: Pool, scan_id: uuid.UUID, reason: str) -> asyncpg.Record | None:
    """End the scan as ``failed`` with ``reason``; ``None`` if it had already ended."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE scans SET status = 'failed', error = $2, finished_at = now(),"
            " updated_at = now() WHERE id = $1 AND NOT status = ANY($3::text[]) RETURNING *",
            scan_id,
            reason,
            list(TERMINAL),
        )
        if row is not None:
            await record_event(conn, scan_id, "failed", "failed", row["stage"], reason)
            metrics.SCANS_FINISHED.labels("failed").inc()
        return row


async def complete_scan(
    pool: Pool, scan_id: uuid.UUID, finding_counts: dict[str, int]
) -> asyncpg.Record | None:
    """End the scan as ``completed``; ``None`` if it had already ended."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE scans SET status = 'completed', stage = NULL, finding_counts = $2,"
            " finished_at = now(), updated_at = now()"
            " WHERE id = $1 AND status = 'running' RETURNING *",
            scan_id,
            finding_counts,
        )
        if row is not None:
            await record_event(conn, scan_id, "completed", "completed")
            metrics.SCANS_FINISHED.labels("completed").inc()
        return row
