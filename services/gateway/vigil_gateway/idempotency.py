"""``Idempotency-Key`` for every POST that creates something: a retried CI job never double-scans.

The first request with a key claims it and, once it succeeds, its response is stored. A later
request with the same key and the same method, path and body gets that response again (with
``Idempotent-Replayed: true``) for 24 hours; with a different body it gets 409. A duplicate
arriving while the first is still running waits for it. A request that fails (4xx or 5xx)
releases its key, so a corrected retry runs normally. A response marked
``Cache-Control: no-store`` (one that shows a secret, like a new API key) is never stored:
it cannot be replayed, and a retry creates a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler

from vigil_common.db import Pool
from vigil_gateway.appkeys import POOL, PRINCIPAL
from vigil_gateway.errors import ApiError
from vigil_gateway.uploads import archive_format

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
MAX_KEY_LENGTH: Final = 255
WAIT_SECONDS: Final = 30.0
_KEPT_HEADERS: Final = ("Location", "Content-Type")

Produce = Callable[[], Awaitable[web.StreamResponse]]


def fingerprint(request: web.Request, body: Iterable[bytes]) -> bytes:
    """What makes two requests "the same": method, path, query and body (given in chunks)."""
    digest = hashlib.sha256()
    for part in (request.method, request.path_qs):
        digest.update(part.encode() + b"\x00")
    for chunk in body:
        digest.update(chunk)
    return digest.digest()


def idempotency_key(request: web.Request) -> str | None:
    """The request's ``Idempotency-Key``, checked, or ``None``."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400, "invalid_idempotency_key", f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable chars"
        )
    return key


async def idempotent(request: web.Request, digest: bytes, produce: Produce) -> web.StreamResponse:
    """Run ``produce`` once per idempotency key; replay its response for repeats."""
    key = idempotency_key(request)
    if key is None:
        return await produce()
    pool, org_id = request.app[POOL], request[PRINCIPAL].org_id
    if not await _claim(pool, org_id, key, digest):
        return await _replay(pool, org_id, key, digest)
    try:
        response = await produce()
    except BaseException:
        await _release(pool, org_id, key)
        raise
    if isinstance(response, web.Response) and _storable(response):
        await _complete(pool, org_id, key, response)
    else:
        await _release(pool, org_id, key)
    return response


def _storable(response: web.Response) -> bool:
    """Only successes are replayed, and never one that shows a secret (``no-store``)."""
    no_store = "no-store" in response.headers.get("Cache-Control", "")
    return response.status < 400 and not no_store


async def _claim(pool: Pool, org_id: object, key: str, digest: bytes) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2"
            " AND created_at < now() - interval '24 hours'",
            org_id,
            key,
        )
        claimed = await conn.fetchval(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            org_id,
            key,
            digest,
        )
    return bool(claimed)


async def _replay(pool: Pool, org_id: object, key: str, digest: bytes) -> web.Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = await _stored(pool, org_id, key)
        if row is not None and row["fingerprint"] != digest:
            raise ApiError(
                409, "idempotency_key_reused",
                f"this {HEADER} was used for a different request; use a new key",
            )  # fmt: skip
        if row is not None and row["status"] is not None:
            return _response_of(row)
        if time.monotonic() > deadline:
            raise ApiError(409, "idempotency_in_progress", "the first request is still running")
        await asyncio.sleep(0.05)  # the first request is running (or just failed): look again


async def _stored(pool: Pool, org_id: object, key: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT fingerprint, status, body, headers FROM idempotency_keys"
        " WHERE org_id = $1 AND key = $2",
        org_id,
        key,
    )


def _response_of(row: asyncpg.Record) -> web.Response:
    headers = dict(row["headers"] or {})
    headers[REPLAYED_HEADER] = "true"
    return web.Response(status=row["status"], body=row["body"], headers=headers)


async def _complete(pool: Pool, org_id: object, key: str, response: web.Response) -> None:
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    await pool.execute(
        "UPDATE idempotency_keys SET status = $3, body = $4, headers = $5, completed_at = now()"
        " WHERE org_id = $1 AND key = $2",
        org_id,
        key,
        response.status,
        response.body if isinstance(response.body, bytes) else b"",
        headers,
    )


async def _release(pool: Pool, org_id: object, key: str) -> None:
    await pool.execute(
        "DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND status IS NULL",
        org_id,
        key,
    )


async def idempotently(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Make creating POSTs idempotent; archive uploads hash their body themselves."""
    if request.method != "POST" or PRINCIPAL not in request or HEADER not in request.headers:
        return await handler(request)
    if archive_format(request.content_type) is not None:
        return await handler(request)  # streamed: the upload view calls idempotent()
    body = await request.read()
    return await idempotent(request, fingerprint(request, [body]), lambda: handler(request))
