"""Fair use: an organisation runs at most its cap of scans; the rest wait in order."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from conftest import MakeGatewayClient, Tenant, make_tenant
from vigil_common import admission
from vigil_common.db import Pool
from vigil_common.subjects import STREAM

Client = TestClient[Any, Any]
CAP = 2


@pytest.fixture
async def client(gateway_client: MakeGatewayClient) -> Client:
    return await gateway_client(max_running_scans_per_org=CAP)


def archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("a.py", "x = 1\n")
    return buffer.getvalue()


async def submit(client: Client, tenant: Tenant) -> str:
    response = await client.post(
        "/v1/scans?project=fair", data=archive(),
        headers={"Authorization": f"Bearer {tenant.key}", "Content-Type": "application/zip"},
    )  # fmt: skip
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def positions(client: Client, tenant: Tenant, ids: list[str]) -> list[int | None]:
    headers = {"Authorization": f"Bearer {tenant.key}"}
    scans = [await (await client.get(f"/v1/scans/{i}", headers=headers)).json() for i in ids]
    return [scan["queue_position"] for scan in scans]


async def published(js: JetStreamContext) -> int:
    return int((await js.stream_info(STREAM)).state.messages)


async def test_scans_past_the_cap_wait_in_order_without_holding_up_others(
    client: Client, tenant: Tenant, pool: Pool, nats_js: tuple[NATS, JetStreamContext]
) -> None:
    _, js = nats_js
    ids = [await submit(client, tenant) for _ in range(4)]
    assert await published(js) == CAP
    assert await positions(client, tenant, ids) == [None, None, 1, 2]

    other = await make_tenant(pool)
    await submit(client, other)  # another organisation is not held up
    assert await published(js) == CAP + 1

    await pool.execute(
        "UPDATE scans SET status = 'completed', finished_at = now() WHERE id = $1",
        uuid.UUID(ids[0]),
    )
    assert await admission.admit(pool, js, tenant.org_id, CAP) == 1  # as the notifier does
    assert await positions(client, tenant, ids[2:]) == [None, 1]
    waiting = await pool.fetchval(
        "SELECT pending_request FROM scans WHERE id = $1", uuid.UUID(ids[2])
    )
    assert waiting is None  # a published request is not kept

    cancelled = await client.post(
        f"/v1/scans/{ids[1]}/cancel", headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert cancelled.status == 200
    assert await positions(client, tenant, ids[3:]) == [None]
    assert await published(js) == CAP + 3
