"""Rate limits hold across gateway replicas; responses report the budget; quotas answer 402."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import MakeGatewayClient, Tenant
from vigil_common.db import Pool
from vigil_devstack.services import ServiceProcess, python_env, start_service, wait_ready

Client = TestClient[Any, Any]
LIMIT = 40


@pytest.fixture
def two_gateways(
    test_env: dict[str, str], pool: Pool, tmp_path: Path, nats_js: Any
) -> Iterator[list[ServiceProcess]]:
    env = python_env({**test_env, "VIGIL_RATE_LIMIT_READS": str(LIMIT)})
    gateways = [start_service("gateway", env, tmp_path / f"g{i}") for i in range(2)]
    try:
        for gateway in gateways:
            wait_ready(gateway)
        yield gateways
    finally:
        for gateway in gateways:
            gateway.stop()


async def test_a_limit_holds_across_two_gateway_processes(
    two_gateways: list[ServiceProcess], tenant: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {tenant.key}"}
    async with aiohttp.ClientSession() as session:

        async def call(i: int) -> tuple[int, dict[str, str]]:
            url = two_gateways[i % 2].base_url + "/v1/me"
            async with session.get(url, headers=headers) as response:
                return response.status, dict(response.headers)

        results = await asyncio.gather(*(call(i) for i in range(3 * LIMIT)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) <= LIMIT
    # Tokens one replica leased but did not spend are lost to the other: at most a chunk each.
    assert statuses.count(200) >= LIMIT - 2 * max(1, LIMIT // 20)
    assert set(statuses) == {200, 429}
    refused = next(h for status, h in results if status == 429)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["X-RateLimit-Remaining"] == "0"


@pytest.fixture
async def limited_client(gateway_client: MakeGatewayClient) -> Client:
    return await gateway_client(rate_limit_reads=3, rate_limit_writes=50, scan_quota_daily=2)


async def test_every_response_reports_its_budget(limited_client: Client, tenant: Tenant) -> None:
    headers = {"X-API-Key": tenant.key}
    ok = await limited_client.get("/v1/me", headers=headers)
    assert ok.headers["X-RateLimit-Limit"] == "3"
    assert ok.headers["X-RateLimit-Remaining"] == "2"
    assert ok.headers["RateLimit-Policy"] == '"reads";q=3;w=60'
    assert ok.headers["RateLimit"].startswith('"reads";r=2;t=')
    missing = await limited_client.get(
        "/v1/scans/00000000-0000-0000-0000-000000000000", headers=headers
    )
    assert missing.status == 404
    assert missing.headers["X-RateLimit-Remaining"] == "1"
    await limited_client.get("/v1/me", headers=headers)
    refused = await limited_client.get("/v1/me", headers=headers)
    assert refused.status == 429
    body = await refused.json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["details"]["bucket"] == "reads"
    # Buckets are separate: reads being spent does not stop writes.
    write = await limited_client.post("/v1/scans", json={"source_type": "zip"}, headers=headers)
    assert write.status == 201
    assert write.headers["RateLimit-Policy"].startswith('"scans"')


async def test_the_scan_quota_answers_402_with_the_quota(
    limited_client: Client, tenant: Tenant
) -> None:
    headers = {"X-API-Key": tenant.key}
    for _ in range(2):
        created = await limited_client.post(
            "/v1/scans", json={"source_type": "zip"}, headers=headers
        )
        assert created.status == 201
    refused = await limited_client.post("/v1/scans", json={"source_type": "zip"}, headers=headers)
    assert refused.status == 402
    error = (await refused.json())["error"]
    assert error["code"] == "quota_exhausted"
    assert error["details"] == {"period": "daily", "quota": 2, "used": 2}
