"""Idempotency-Key: a repeated POST returns the first response and creates nothing new."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

from aiohttp.test_utils import TestClient

from conftest import Tenant, make_tenant
from vigil_common.db import Pool

Client = TestClient[Any, Any]


def headers(tenant: Tenant, key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}", "Idempotency-Key": key, **extra}


async def scan_count(pool: Pool, tenant: Tenant) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM scans WHERE org_id = $1", tenant.org_id))


def archive(text: str) -> bytes:
    """A ZIP of one file; the same bytes for the same text (a fixed timestamp, not the clock's,
    which made two calls a 2-second tick apart differ and the replay a 409)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("a.py", date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


async def test_a_repeated_post_replays_the_first_response(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    body = {"source_type": "zip", "project": "ci"}
    first = await client.post("/v1/scans", json=body, headers=headers(tenant, "job-1"))
    second = await client.post("/v1/scans", json=body, headers=headers(tenant, "job-1"))
    assert (first.status, second.status) == (201, 201)
    assert (await second.json())["id"] == (await first.json())["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert await scan_count(pool, tenant) == 1


async def test_the_same_key_with_another_body_is_refused(client: Client, tenant: Tenant) -> None:
    await client.post("/v1/scans", json={"source_type": "zip"}, headers=headers(tenant, "k"))
    other = await client.post(
        "/v1/scans", json={"source_type": "tar.gz"}, headers=headers(tenant, "k")
    )
    assert other.status == 409
    assert (await other.json())["error"]["code"] == "idempotency_key_reused"


async def test_concurrent_identical_posts_create_one_scan(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    body = {"source_type": "zip", "project": "race"}
    responses = await asyncio.gather(
        *(client.post("/v1/scans", json=body, headers=headers(tenant, "race")) for _ in range(8))
    )
    assert {r.status for r in responses} == {201}
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    assert await scan_count(pool, tenant) == 1


async def test_archive_uploads_are_idempotent_on_their_bytes(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    zip_headers = headers(tenant, "upload-1", **{"Content-Type": "application/zip"})
    first = await client.post("/v1/scans?project=u", data=archive("x = 1"), headers=zip_headers)
    again = await client.post("/v1/scans?project=u", data=archive("x = 1"), headers=zip_headers)
    assert (await again.json())["id"] == (await first.json())["id"]
    changed = await client.post("/v1/scans?project=u", data=archive("x = 2"), headers=zip_headers)
    assert changed.status == 409
    assert await scan_count(pool, tenant) == 1


async def test_a_failed_request_releases_its_key(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    bad = await client.post(
        "/v1/scans", json={"source_type": "zip", "oops": 1}, headers=headers(tenant, "fix-me")
    )
    assert bad.status == 422
    fixed = await client.post(
        "/v1/scans", json={"source_type": "zip"}, headers=headers(tenant, "fix-me")
    )
    assert fixed.status == 201
    assert "Idempotent-Replayed" not in fixed.headers


async def test_keys_belong_to_one_organisation(client: Client, tenant: Tenant, pool: Pool) -> None:
    other = await make_tenant(pool)
    body = {"source_type": "zip"}
    mine = await client.post("/v1/scans", json=body, headers=headers(tenant, "shared"))
    theirs = await client.post("/v1/scans", json=body, headers=headers(other, "shared"))
    assert (await mine.json())["id"] != (await theirs.json())["id"]


async def test_a_malformed_key_is_refused(client: Client, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/scans", json={"source_type": "zip"}, headers=headers(tenant, "k" * 300)
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_idempotency_key"


async def test_a_new_api_key_is_never_stored_for_replay(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    first = await client.post("/v1/keys", json={"name": "ci"}, headers=headers(tenant, "key-1"))
    assert first.status == 201
    assert first.headers["Cache-Control"] == "no-store"
    stored = await pool.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE org_id = $1", tenant.org_id
    )
    assert stored == 0
