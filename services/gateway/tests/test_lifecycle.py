"""Deleting a scan removes its rows and objects; retention deletes old finished scans."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.storage import ObjectMissing, ObjectStore
from vigil_gateway.lifecycle import sweep_expired

Client = TestClient[Any, Any]


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


async def stored_scan(
    pool: Pool, store: ObjectStore, tenant: Tenant, finished_days_ago: float | None
) -> uuid.UUID:
    """A scan with a finding and objects under every prefix a scan uses."""
    scan_id = uuid.uuid4()
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, 'kept') ON CONFLICT (org_id, name)"
        " DO UPDATE SET name = EXCLUDED.name RETURNING id",
        tenant.org_id,
    )
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status, finished_at)"
        " VALUES ($1, $2, $3, 'upload', 'completed', now() - make_interval(secs => $4))",
        scan_id, tenant.org_id, project_id, (finished_days_ago or 0) * 86400,
    )  # fmt: skip
    if finished_days_ago is None:
        await pool.execute(
            "UPDATE scans SET status = 'running', finished_at = NULL WHERE id = $1", scan_id
        )
    await pool.execute(
        "INSERT INTO findings (scan_id, org_id, project_id, fingerprint, scanner, rule_id,"
        " severity, confidence, title, file_path, start_line, end_line)"
        " VALUES ($1, $2, $3, 'fp', 's', 'r', 'low', 'low', 't', 'f', 1, 1)",
        scan_id, tenant.org_id, project_id,
    )  # fmt: skip
    for key in (
        f"uploads/{scan_id}.zip",
        f"trees/{scan_id}/source.tree.gz",
        f"reports/{scan_id}/r.md",
    ):
        await store.put_bytes(key, b"x", "application/octet-stream")
    return scan_id


async def gone(pool: Pool, store: ObjectStore, scan_id: uuid.UUID) -> bool:
    rows = await pool.fetchval("SELECT count(*) FROM findings WHERE scan_id = $1", scan_id)
    try:
        await store.head(f"trees/{scan_id}/source.tree.gz")
    except ObjectMissing:
        return rows == 0
    return False


async def test_deleting_a_scan_removes_its_rows_and_objects(
    client: Client, tenant: Tenant, pool: Pool, store: ObjectStore
) -> None:
    scan_id = await stored_scan(pool, store, tenant, finished_days_ago=0)
    other = await make_tenant(pool)
    assert (await client.delete(f"/v1/scans/{scan_id}", headers=auth(other))).status == 404
    reader = await make_tenant(pool, scopes=("scans:read",))
    assert (await client.delete(f"/v1/scans/{scan_id}", headers=auth(reader))).status == 403
    response = await client.delete(f"/v1/scans/{scan_id}", headers=auth(tenant))
    assert response.status == 204
    assert await gone(pool, store, scan_id)
    for key in (f"uploads/{scan_id}.zip", f"reports/{scan_id}/r.md"):
        with pytest.raises(ObjectMissing):
            await store.head(key)
    assert (await client.get(f"/v1/scans/{scan_id}", headers=auth(tenant))).status == 404
    log = await (await client.get("/v1/audit-log", headers=auth(tenant))).json()
    assert log["items"][0]["action"] == "scan.deleted"


async def test_retention_deletes_only_old_finished_scans_of_organisations_that_set_it(
    client: Client, tenant: Tenant, pool: Pool, store: ObjectStore
) -> None:
    set_retention = await client.patch(
        "/v1/organisation", json={"retention_days": 1}, headers=auth(tenant)
    )
    assert (await set_retention.json())["effective_retention_days"] == 1
    old = await stored_scan(pool, store, tenant, finished_days_ago=2)
    recent = await stored_scan(pool, store, tenant, finished_days_ago=0.5)
    running = await stored_scan(pool, store, tenant, finished_days_ago=None)
    keeper = await make_tenant(pool)  # no retention of its own, and no server default
    theirs = await stored_scan(pool, store, keeper, finished_days_ago=400)
    deleted = await sweep_expired(pool, store, default_days=0)
    assert deleted >= 1
    assert await gone(pool, store, old)
    for kept in (recent, running, theirs):
        assert not await gone(pool, store, kept)


async def test_retention_must_be_a_positive_number_of_days(client: Client, tenant: Tenant) -> None:
    response = await client.patch(
        "/v1/organisation", json={"retention_days": 0}, headers=auth(tenant)
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"]["field"] == "retention_days"
