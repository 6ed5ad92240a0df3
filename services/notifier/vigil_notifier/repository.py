"""The notifier's SQL: scans to announce, delivery rows to create, claim and settle.

``webhook_deliveries`` is the source of truth. The JetStream handler only inserts rows (unique
per destination and event, so a redelivered message adds nothing); the delivery loop claims due
rows with ``FOR UPDATE SKIP LOCKED`` and leases them by pushing ``next_attempt_at`` forward, so
replicas never send the same row at once and a crashed sender's rows come back when the lease
ends.
"""

from __future__ import annotations

import uuid

import asyncpg

from vigil_common.db import Pool


async def fetch_scan(pool: Pool, scan_id: uuid.UUID) -> asyncpg.Record | None:
    """The scan with its project's name, or ``None``."""
    return await pool.fetchrow(
        "SELECT s.*, p.name AS project FROM scans s JOIN projects p ON p.id = s.project_id"
        " WHERE s.id = $1",
        scan_id,
    )


async def fetch_findings(pool: Pool, scan_id: uuid.UUID, limit: int) -> list[asyncpg.Record]:
    """Up to ``limit`` reported findings, most severe first."""
    return await pool.fetch(
        "SELECT id, rule_id, severity, title, file_path, start_line FROM findings"
        " WHERE scan_id = $1 AND status = 'reported' ORDER BY CASE severity"
        " WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3"
        " ELSE 4 END, file_path, start_line, id LIMIT $2",
        scan_id,
        limit,
    )


async def create_deliveries(
    pool: Pool,
    scan: asyncpg.Record,
    event_id: uuid.UUID,
    event_type: str,
    body: bytes,
    *,
    include_callback: bool = True,
) -> int:
    """One pending delivery per subscribed, enabled endpoint and the scan's callback.

    Idempotent: rows already created for this event are left as they are. Returns how many
    rows this call created.
    """
    async with pool.acquire() as conn, conn.transaction():
        created = await conn.fetch(
            "INSERT INTO webhook_deliveries"
            " (org_id, endpoint_id, scan_id, event_id, event_type, payload)"
            " SELECT org_id, id, $2, $3, $4, $5 FROM webhook_endpoints"
            " WHERE org_id = $1 AND enabled AND $4 = ANY(event_types)"
            " ON CONFLICT DO NOTHING RETURNING id",
            scan["org_id"],
            scan["id"],
            event_id,
            event_type,
            body,
        )
        if include_callback and scan["callback_url"]:
            created += await conn.fetch(
                "INSERT INTO webhook_deliveries (org_id, scan_id, event_id, event_type, payload)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
                scan["org_id"],
                scan["id"],
                event_id,
                event_type,
                body,
            )
    return len(created)


async def claim_due(pool: Pool, limit: int, lease_seconds: float) -> list[asyncpg.Record]:
    """Claim up to ``limit`` due deliveries for this process, counting the attempt."""
    return await pool.fetch(
        "WITH due AS (SELECT id FROM webhook_deliveries"
        "  WHERE state = 'pending' AND next_attempt_at <= now()"
        "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " UPDATE webhook_deliveries d SET attempts = d.attempts + 1, updated_at = now(),"
        "  next_attempt_at = now() + make_interval(secs => $2)"
        " FROM due WHERE d.id = due.id"
        " RETURNING d.id, d.endpoint_id, d.scan_id, d.event_id, d.event_type, d.payload,"
        "  d.attempts",
        limit,
        lease_seconds,
    )


async def fetch_target(pool: Pool, delivery: asyncpg.Record) -> asyncpg.Record | None:
    """Where a delivery goes: URL, whether it may be sent, and the sealed secrets that sign it.

    Returns ``None`` when the endpoint or scan is gone.
    """
    if delivery["endpoint_id"] is None:
        return await pool.fetchrow(
            "SELECT callback_url AS url, true AS enabled,"
            " array_remove(ARRAY[callback_secret_sealed], NULL) AS secrets"
            " FROM scans WHERE id = $1 AND callback_url IS NOT NULL",
            delivery["scan_id"],
        )
    return await pool.fetchrow(
        "SELECT url, enabled, array_remove(ARRAY[secret_sealed, CASE WHEN"
        " previous_secret_expires_at > now() THEN previous_secret_sealed END], NULL) AS secrets"
        " FROM webhook_endpoints WHERE id = $1",
        delivery["endpoint_id"],
    )


async def settle(
    pool: Pool,
    delivery_id: uuid.UUID,
    state: str,
    next_in_seconds: float | None,
    status: int | None,
    latency_ms: int,
    error: str | None,
) -> None:
    """Log the attempt and move the delivery to ``state`` (due again after ``next_in_seconds``)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO webhook_attempts (delivery_id, status, latency_ms, error)"
            " VALUES ($1, $2, $3, $4)",
            delivery_id,
            status,
            latency_ms,
            error,
        )
        await conn.execute(
            "UPDATE webhook_deliveries SET state = $2, last_status = $3, last_error = $4,"
            " next_attempt_at = now() + make_interval(secs => coalesce($5::float8, 0)),"
            " delivered_at = CASE WHEN $2 = 'delivered' THEN now() END, updated_at = now()"
            " WHERE id = $1",
            delivery_id,
            state,
            status,
            error,
            next_in_seconds,
        )


async def mark_endpoint_healthy(pool: Pool, endpoint_id: uuid.UUID) -> None:
    """A success ends the endpoint's run of failures."""
    await pool.execute(
        "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since"
        " IS NOT NULL",
        endpoint_id,
    )


async def note_endpoint_failure(
    pool: Pool, endpoint_id: uuid.UUID, disable_after_seconds: float, reason: str
) -> bool:
    """Record a failure; disable the endpoint with ``reason`` once it has failed for too long.

    Returns whether this call disabled it.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())"
            " WHERE id = $1",
            endpoint_id,
        )
        disabled = await conn.fetchval(
            "UPDATE webhook_endpoints SET enabled = false, updated_at = now(),"
            " disabled_reason = $2 WHERE id = $1 AND enabled"
            " AND failing_since <= now() - make_interval(secs => $3) RETURNING id",
            endpoint_id,
            reason,
            disable_after_seconds,
        )
    return disabled is not None


async def disable_endpoint(pool: Pool, endpoint_id: uuid.UUID, reason: str) -> None:
    """Stop delivering to an endpoint (it answered 410 Gone)."""
    await pool.execute(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now()"
        " WHERE id = $1",
        endpoint_id,
        reason,
    )
