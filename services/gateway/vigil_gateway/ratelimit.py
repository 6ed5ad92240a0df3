"""Per-key rate limits by bucket, shared by every gateway replica at little cost per request.

Each key has a budget per bucket (reads, writes, scan creation, triage) and one-minute window.
Replicas lease chunks of the budget from PostgreSQL (``rate_limit_usage``) and spend them
locally, so the database is touched about once per chunk rather than once per request, and
the sum over replicas can never pass the limit: leased tokens are already counted. The price
is that tokens one replica leased but did not spend are unavailable to the others until the
window ends (at most a chunk, 1/20 of the limit, per replica).

Every response carries ``X-RateLimit-Limit/Remaining/Reset`` and the IETF ``RateLimit`` and
``RateLimit-Policy`` headers; a refused request gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_gateway.appkeys import POOL, PRINCIPAL, RATE_LIMITER
from vigil_gateway.errors import ApiError

WINDOW_SECONDS: Final = 60
CHUNKS_PER_WINDOW: Final = 20


@dataclass
class Decision:
    """The outcome for one request, and what the headers report."""

    bucket: str
    allowed: bool
    limit: int
    remaining: int
    reset: int


DECISION: Final = web.RequestKey("rate_decision", Decision)


@dataclass
class _Lease:
    window: int
    tokens: int = 0
    used_globally: int = 0


def bucket_of(request: web.Request) -> str:
    """Which budget a request spends."""
    if request.method == "POST" and request.path == "/v1/scans":
        return "scans"
    if request.path == "/v1/mcp":
        # The MCP exchange itself is a read; each tool call spends its REST bucket as well.
        return "reads"
    if "/comments" in request.path or (
        request.method == "PATCH" and request.path.startswith("/v1/findings/")
    ):
        return "triage"
    return "reads" if request.method in {"GET", "HEAD", "OPTIONS"} else "writes"


class RateLimiter:
    """Hands out tokens from leased chunks; leases more from PostgreSQL when a chunk runs out."""

    def __init__(self, pool: Pool, settings: Settings) -> None:
        self.pool = pool
        self.limits = {
            "reads": settings.rate_limit_reads,
            "writes": settings.rate_limit_writes,
            "scans": settings.rate_limit_scans,
            "triage": settings.rate_limit_triage,
        }
        self._leases: dict[tuple[uuid.UUID, str], _Lease] = {}
        self._locks: dict[tuple[uuid.UUID, str], asyncio.Lock] = {}

    async def take(self, key_id: uuid.UUID, bucket: str) -> Decision:
        """Spend one token of ``bucket`` for ``key_id`` if any is left this window."""
        now = time.time()
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        reset = max(1, int(window + WINDOW_SECONDS - now))
        limit = self.limits[bucket]
        lease = await self._lease(key_id, bucket, window, limit)
        if lease.tokens <= 0:
            return Decision(bucket, False, limit, 0, reset)
        lease.tokens -= 1
        remaining = max(0, limit - lease.used_globally + lease.tokens)
        return Decision(bucket, True, limit, remaining, reset)

    async def _lease(self, key_id: uuid.UUID, bucket: str, window: int, limit: int) -> _Lease:
        slot = (key_id, bucket)
        lease = self._leases.get(slot)
        if lease is not None and lease.window == window and lease.tokens > 0:
            return lease
        async with self._locks.setdefault(slot, asyncio.Lock()):
            lease = self._leases.get(slot)
            if lease is None or lease.window != window:
                lease = self._leases[slot] = _Lease(window)
            if lease.tokens <= 0:
                chunk = max(1, limit // CHUNKS_PER_WINDOW)
                granted, used = await self._grant(key_id, bucket, window, chunk, limit)
                lease.tokens, lease.used_globally = granted, used
        return lease

    async def _grant(
        self, key_id: uuid.UUID, bucket: str, window: int, chunk: int, limit: int
    ) -> tuple[int, int]:
        start = dt.datetime.fromtimestamp(window, dt.UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            used = await conn.fetchval(
                "INSERT INTO rate_limit_usage (key_id, bucket, window_start, used)"
                " VALUES ($1, $2, $3, 0) ON CONFLICT (key_id, bucket, window_start)"
                " DO UPDATE SET used = rate_limit_usage.used RETURNING used",
                key_id,
                bucket,
                start,
            )
            granted = max(0, min(chunk, limit - used))
            if granted:
                await conn.execute(
                    "UPDATE rate_limit_usage SET used = used + $4"
                    " WHERE key_id = $1 AND bucket = $2 AND window_start = $3",
                    key_id,
                    bucket,
                    start,
                    granted,
                )
        return granted, used + granted

    async def forget_old_windows(self) -> None:
        """Drop usage rows of windows long past (called now and then)."""
        await self.pool.execute(
            "DELETE FROM rate_limit_usage WHERE window_start < now() - interval '1 hour'"
        )


def rate_headers(decision: Decision) -> dict[str, str]:
    """The legacy ``X-RateLimit-*`` and the IETF ``RateLimit`` headers for a decision."""
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset),
        "RateLimit-Policy": f'"{decision.bucket}";q={decision.limit};w={WINDOW_SECONDS}',
        "RateLimit": f'"{decision.bucket}";r={decision.remaining};t={decision.reset}',
    }


async def spend_token(request: web.Request) -> None:
    """Spend a token for each authenticated request; 429 when the bucket is empty."""
    if PRINCIPAL not in request:
        return
    bucket = bucket_of(request)
    decision = await request.app[RATE_LIMITER].take(request[PRINCIPAL].key_id, bucket)
    request[DECISION] = decision
    if not decision.allowed:
        raise ApiError(
            429,
            "rate_limited",
            f"too many {bucket} requests for this key; retry in {decision.reset} s",
            {"bucket": bucket, "limit": decision.limit, "retry_after": decision.reset},
            {"Retry-After": str(decision.reset)},
        )


async def add_rate_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response, errors included, reports the budget."""
    decision = request.get(DECISION)
    if decision is not None:
        response.headers.update(rate_headers(decision))


async def quota_check(request: web.Request, settings: Settings) -> None:
    """402 when the organisation has used its daily or monthly scan quota."""
    if not settings.scan_quota_daily and not settings.scan_quota_monthly:
        return
    usage = await request.app[POOL].fetchrow(
        "SELECT count(*) FILTER (WHERE created_at >= date_trunc('day', now())) AS today,"
        " count(*) AS month FROM scans WHERE org_id = $1"
        " AND created_at >= date_trunc('month', now())",
        request[PRINCIPAL].org_id,
    )
    assert usage is not None  # an aggregate always returns a row
    for period, used, quota in (
        ("daily", usage["today"], settings.scan_quota_daily),
        ("monthly", usage["month"], settings.scan_quota_monthly),
    ):
        if quota and used >= quota:
            raise ApiError(
                402,
                "quota_exhausted",
                f"the organisation has used its {period} quota of {quota} scans",
                {"period": period, "quota": quota, "used": used},
            )
