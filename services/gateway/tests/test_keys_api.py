"""API keys: shown once, scoped, expiring, and revoked at once on every gateway replica."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import Tenant, make_tenant
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_gateway.app import create_app

Client = TestClient[Any, Any]
Factory = Callable[..., Awaitable[Client]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_new_key_is_shown_once_with_read_scopes_by_default(
    client: Client, tenant: Tenant
) -> None:
    created = await client.post("/v1/keys", json={"name": "ci"}, headers=bearer(tenant.key))
    assert created.status == 201, await created.text()
    new = await created.json()
    assert new["key"].startswith("vgl_") and len(new["key"]) == 47
    assert new["prefix"] == new["key"][:12]
    assert new["scopes"] == ["scans:read", "reports:read"]
    listing = await (await client.get("/v1/keys", headers=bearer(tenant.key))).json()
    assert new["id"] in {k["id"] for k in listing["items"]}
    assert new["key"] not in str(listing)
    me = await (await client.get("/v1/me", headers=bearer(new["key"]))).json()
    assert me["key"]["id"] == new["id"]
    assert me["organisation"]["id"] == str(tenant.org_id)
    assert me["usage"] == {"scans_today": 0, "scans_this_month": 0}
    assert me["quota"] == {"scans_per_day": None, "scans_per_month": None, "running_scans": 4}
    denied = await client.post("/v1/scans", json={"source_type": "zip"}, headers=bearer(new["key"]))
    assert denied.status == 403


async def test_a_key_cannot_grant_scopes_its_creator_lacks(client: Client, pool: Pool) -> None:
    manager = await make_tenant(pool, scopes=("keys:manage", "scans:read"))
    response = await client.post(
        "/v1/keys", json={"name": "x", "scopes": ["scans:write"]}, headers=bearer(manager.key)
    )
    assert response.status == 403
    body = await response.json()
    assert body["error"]["code"] == "scope_not_held"
    assert body["error"]["details"] == {"scopes": ["scans:write"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "scopes": ["scans:everything"]}, "scopes[0]"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "owner": "me"}, "owner"),
    ],
)
async def test_bad_key_requests_name_the_field(
    client: Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/keys", json=body, headers=bearer(tenant.key))
    assert response.status == 422
    assert (await response.json())["error"]["details"]["field"] == field


async def test_an_expired_key_stops_working_even_when_cached(
    client: Client, tenant: Tenant
) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).isoformat()
    new = await (
        await client.post(
            "/v1/keys", json={"name": "brief", "expires_at": soon}, headers=bearer(tenant.key)
        )
    ).json()
    assert (await client.get("/v1/me", headers=bearer(new["key"]))).status == 200
    await asyncio.sleep(2.5)
    expired = await client.get("/v1/me", headers=bearer(new["key"]))
    assert expired.status == 401


async def test_revocation_takes_effect_at_once_on_every_replica(
    aiohttp_client: Factory, settings: Settings, tenant: Tenant, nats_js: Any
) -> None:
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    new = await (
        await first.post("/v1/keys", json={"name": "doomed"}, headers=bearer(tenant.key))
    ).json()
    for replica in (first, second):  # both now hold the key in their caches
        assert (await replica.get("/v1/me", headers=bearer(new["key"]))).status == 200
    revoked = await first.delete(f"/v1/keys/{new['id']}", headers=bearer(tenant.key))
    assert revoked.status == 204
    async with asyncio.timeout(2):  # the broadcast, not the cache TTL (30 s), must evict it
        while (await second.get("/v1/me", headers=bearer(new["key"]))).status != 401:
            await asyncio.sleep(0.02)
    assert (await first.get("/v1/me", headers=bearer(new["key"]))).status == 401
    listing = await (await first.get("/v1/keys", headers=bearer(tenant.key))).json()
    assert next(k for k in listing["items"] if k["id"] == new["id"])["revoked_at"] is not None


async def test_keys_of_other_organisations_are_not_found(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    other = await make_tenant(pool)
    their_key = await pool.fetchval("SELECT id FROM api_keys WHERE org_id = $1", other.org_id)
    response = await client.delete(f"/v1/keys/{their_key}", headers=bearer(tenant.key))
    assert response.status == 404
    assert (await client.get("/v1/me", headers=bearer(other.key))).status == 200


async def test_key_management_needs_its_scope(client: Client, pool: Pool) -> None:
    reader = await make_tenant(pool, scopes=("scans:read",))
    for method, path in (("GET", "/v1/keys"), ("POST", "/v1/keys"), ("DELETE", "/v1/keys/x")):
        response = await client.request(method, path, headers=bearer(reader.key), json={})
        assert response.status == 403, (method, path)
        assert (await response.json())["error"]["details"] == {"scope": "keys:manage"}
    assert (await client.get("/v1/me")).status == 401


async def test_every_request_is_logged_with_its_id_and_never_the_key(
    client: Client, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="vigil_gateway.access")
    headers = {**bearer(tenant.key), "X-Request-Id": "ci-run-42"}
    response = await client.get("/v1/me?x=1", headers=headers)
    assert response.headers["X-Request-Id"] == "ci-run-42"
    (line,) = [r for r in caplog.records if r.name == "vigil_gateway.access"]
    assert line.getMessage() == "GET /v1/me 200"
    assert line.__dict__["request_id"] == "ci-run-42"
    assert line.__dict__["route"] == "/v1/me"
    assert tenant.key not in str(line.__dict__)
    too_long = "r" * 500  # not copied into every log line: replaced by an id of our own
    replaced = await client.get("/v1/me", headers={**bearer(tenant.key), "X-Request-Id": too_long})
    assert len(replaced.headers["X-Request-Id"]) == 32
