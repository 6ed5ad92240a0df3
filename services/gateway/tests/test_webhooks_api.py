"""The webhook management API through aiohttp's test client, on the real database."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, get_args

import msgspec
import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from conftest import Tenant, make_tenant
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.sealing import unseal
from vigil_gateway.app import create_app
from vigil_gateway.webhooks_api import EventType
from vigil_notifier.payloads import EVENT_TYPES

Client = TestClient[Any, Any]
HOOK = "http://127.0.0.1:9/hook"

# Every one is refused when private networks are not allowed (production's default).
SSRF_URLS = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://localhost/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[0:0:0:0:0:ffff:169.254.169.254]/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/",
    "https://100.100.100.200/",
    "https://10.0.0.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://[fe80::1]/",
    "https://0.0.0.0/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/",
    "http://93.184.215.14/",
    "ftp://93.184.215.14/",
    "file:///etc/passwd",
    "https://user:pw@93.184.215.14/",
    "not a url",
]


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


@pytest.fixture
async def strict_client(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    pool: Pool,
    nats_js: tuple[NATS, JetStreamContext],
) -> Client:
    """A gateway configured as in production: private networks refused."""
    strict = msgspec.structs.replace(settings, allow_private_networks=False)
    return await aiohttp_client(create_app(strict))


async def create(client: Client, tenant: Tenant, **body: Any) -> Any:
    response = await client.post("/v1/webhooks", json={"url": HOOK, **body}, headers=auth(tenant))
    assert response.status == 201, await response.text()
    return await response.json()


def assert_error(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"]


async def test_create_returns_the_secret_once_and_stores_it_sealed(
    client: Client, tenant: Tenant, pool: Pool, settings: Settings
) -> None:
    created = await create(client, tenant, description="ci")
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["scan.completed", "scan.failed"]
    assert created["enabled"] is True
    shown = await (await client.get(f"/v1/webhooks/{created['id']}", headers=auth(tenant))).json()
    assert "secret" not in shown
    assert shown["description"] == "ci"
    sealed = await pool.fetchval(
        "SELECT secret_sealed FROM webhook_endpoints WHERE id = $1", uuid.UUID(created["id"])
    )
    assert created["secret"] not in sealed
    assert unseal(sealed, settings.sealing_key, "webhook-secret") == created["secret"]


async def test_list_update_and_delete(client: Client, tenant: Tenant) -> None:
    first = await create(client, tenant)
    second = await create(client, tenant, event_types=["finding.triaged"])
    listing = await (await client.get("/v1/webhooks", headers=auth(tenant))).json()
    assert [item["id"] for item in listing["items"]] == [first["id"], second["id"]]
    assert all("secret" not in item for item in listing["items"])
    patched = await client.patch(
        f"/v1/webhooks/{first['id']}",
        json={"enabled": False, "event_types": ["scan.failed"]},
        headers=auth(tenant),
    )
    body = await patched.json()
    assert patched.status == 200, body
    assert (body["enabled"], body["event_types"]) == (False, ["scan.failed"])
    assert body["disabled_reason"] == "disabled through the API"
    enabled = await client.patch(
        f"/v1/webhooks/{first['id']}", json={"enabled": True}, headers=auth(tenant)
    )
    assert (await enabled.json())["disabled_reason"] is None
    deleted = await client.delete(f"/v1/webhooks/{first['id']}", headers=auth(tenant))
    assert deleted.status == 204
    gone = await client.get(f"/v1/webhooks/{first['id']}", headers=auth(tenant))
    assert gone.status == 404


async def test_rotation_returns_a_new_secret_and_keeps_the_old_one_for_the_grace_period(
    client: Client, tenant: Tenant, pool: Pool, settings: Settings
) -> None:
    created = await create(client, tenant)
    rotated = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=auth(tenant))
    body = await rotated.json()
    assert rotated.status == 200, body
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None
    row = await pool.fetchrow(
        "SELECT secret_sealed, previous_secret_sealed,"
        " previous_secret_expires_at - now() > interval '23 hours' AS long_grace"
        " FROM webhook_endpoints WHERE id = $1",
        uuid.UUID(created["id"]),
    )
    assert row is not None
    assert unseal(row["secret_sealed"], settings.sealing_key, "webhook-secret") == body["secret"]
    previous = unseal(row["previous_secret_sealed"], settings.sealing_key, "webhook-secret")
    assert previous == created["secret"]
    assert row["long_grace"]
    revoked = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret",
        json={"grace_seconds": 0},
        headers=auth(tenant),
    )
    assert (await revoked.json())["previous_secret_expires_at"] is None


async def test_another_organisations_endpoint_answers_404(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    created = await create(client, tenant)
    other = await make_tenant(pool)
    path = f"/v1/webhooks/{created['id']}"
    for method, url in [
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", path + "/rotate-secret"),
        ("GET", path + "/deliveries"),
        ("POST", path + f"/deliveries/{uuid.uuid4()}/redeliver"),
    ]:
        response = await client.request(method, url, json={}, headers=auth(other))
        assert response.status == 404, (method, url)
        assert_error(await response.json(), "not_found")
    listing = await (await client.get("/v1/webhooks", headers=auth(other))).json()
    assert listing["items"] == []


async def test_scope_and_key_are_required(client: Client, pool: Pool) -> None:
    reader = await make_tenant(pool, ("scans:read",))
    forbidden = await client.get("/v1/webhooks", headers=auth(reader))
    assert forbidden.status == 403
    body = await forbidden.json()
    assert_error(body, "missing_scope")
    assert body["error"]["details"] == {"scope": "webhooks:manage"}
    anonymous = await client.post("/v1/webhooks", json={"url": HOOK})
    assert anonymous.status == 401
    assert_error(await anonymous.json(), "unauthenticated")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": HOOK, "colour": "red"}, "colour"),
        ({"url": HOOK, "event_types": ["scan.exploded"]}, "event_types[0]"),
        ({"url": HOOK, "event_types": []}, "event_types"),
        ({}, "body"),
        ([], "body"),
        ({"url": 7}, "url"),
    ],
)
async def test_bad_bodies_answer_422_naming_the_field(
    client: Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/webhooks", json=body, headers=auth(tenant))
    assert response.status == 422
    error = await response.json()
    assert_error(error, "invalid_request")
    assert error["error"]["details"]["field"] == field


@pytest.mark.parametrize("url", SSRF_URLS)
async def test_internal_destinations_are_refused_at_creation(
    strict_client: Client, tenant: Tenant, url: str
) -> None:
    response = await strict_client.post("/v1/webhooks", json={"url": url}, headers=auth(tenant))
    assert response.status == 422, url
    error = await response.json()
    assert_error(error, "invalid_request")
    assert error["error"]["details"] == {"field": "url"}
    assert error["error"]["message"].startswith("url: ")


async def test_an_update_to_an_internal_url_is_refused(
    strict_client: Client, tenant: Tenant, pool: Pool
) -> None:
    created = await strict_client.post(
        "/v1/webhooks", json={"url": "https://93.184.215.14/hook"}, headers=auth(tenant)
    )
    assert created.status == 201, await created.text()
    endpoint = await created.json()
    response = await strict_client.patch(
        f"/v1/webhooks/{endpoint['id']}",
        json={"url": "https://169.254.169.254/"},
        headers=auth(tenant),
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"] == {"field": "url"}


async def seed_deliveries(pool: Pool, tenant: Tenant, endpoint_id: str, count: int) -> list[Any]:
    ids = []
    for n in range(count):
        row = await pool.fetchrow(
            "INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload,"
            " state, attempts, created_at) VALUES ($1, $2, $3, 'scan.completed', '{}', 'failed',"
            " 1, now() - make_interval(secs => $4)) RETURNING id",
            tenant.org_id,
            uuid.UUID(endpoint_id),
            uuid.uuid4(),
            float(count - n),
        )
        assert row is not None
        await pool.execute(
            "INSERT INTO webhook_attempts (delivery_id, status, latency_ms, error)"
            " VALUES ($1, 503, 12, 'HTTP 503 Service Unavailable')",
            row["id"],
        )
        ids.append(str(row["id"]))
    return ids


async def test_the_delivery_log_is_cursor_paginated_newest_first(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    endpoint = await create(client, tenant)
    ids = await seed_deliveries(pool, tenant, endpoint["id"], 5)
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await client.get(
            f"/v1/webhooks/{endpoint['id']}/deliveries{query}", headers=auth(tenant)
        )
        body = await page.json()
        assert page.status == 200, body
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    first = body["items"][0]
    assert first["attempts"][0]["status"] == 503
    assert first["attempts"][0]["latency_ms"] == 12
    bad = await client.get(
        f"/v1/webhooks/{endpoint['id']}/deliveries?cursor=nope", headers=auth(tenant)
    )
    assert bad.status == 422


async def test_redeliver_makes_a_failed_delivery_due_again(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    endpoint = await create(client, tenant)
    [delivery_id] = await seed_deliveries(pool, tenant, endpoint["id"], 1)
    path = f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery_id}/redeliver"
    response = await client.post(path, headers=auth(tenant))
    body = await response.json()
    assert response.status == 202, body
    assert body["state"] == "pending"
    assert body["next_attempt_at"] is not None
    await client.patch(
        f"/v1/webhooks/{endpoint['id']}", json={"enabled": False}, headers=auth(tenant)
    )
    refused = await client.post(path, headers=auth(tenant))
    assert refused.status == 409
    assert_error(await refused.json(), "endpoint_disabled")


async def test_secret_answers_are_never_stored_for_idempotent_replay(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    headers = {**auth(tenant), "Idempotency-Key": "create-hook-1"}
    first = await client.post("/v1/webhooks", json={"url": HOOK}, headers=headers)
    assert first.status == 201
    assert first.headers["Cache-Control"] == "no-store"
    stored = await pool.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE org_id = $1", tenant.org_id
    )
    assert stored == 0
    again = await client.post("/v1/webhooks", json={"url": HOOK}, headers=headers)
    assert "Idempotent-Replayed" not in again.headers  # a new endpoint, a new secret


def test_the_gateway_and_the_notifier_agree_on_event_types() -> None:
    assert set(get_args(EventType)) == set(EVENT_TYPES)
