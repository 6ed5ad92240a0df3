"""The v1 scan API through aiohttp's test client, on the real database, bus and store."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from conftest import MakeGatewayClient, Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.schemas import ScanRequested
from vigil_common.storage import ObjectStore
from vigil_common.subjects import SCAN_REQUESTED, STREAM

Client = TestClient[Any, Any]


def demo_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("demo/app.py", "import os\nos.system('ls ' + input())\n")
    return buffer.getvalue()


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


@pytest.fixture
async def client(gateway_client: MakeGatewayClient) -> Client:
    return await gateway_client(max_upload_bytes=4096)


async def post_zip(client: Client, tenant: Tenant, body: bytes, project: str = "demo") -> Any:
    return await client.post(
        f"/v1/scans?project={project}",
        data=body,
        headers={**auth(tenant), "Content-Type": "application/zip"},
    )


def assert_error(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"]


async def test_health_endpoints_answer_without_a_key(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200, await ready.text()
    metrics = await client.get("/metrics")
    assert "vigil_http_requests_total" in await metrics.text()


async def test_create_scan_stores_the_upload_and_publishes_the_request(
    client: Client, tenant: Tenant, store: ObjectStore, nats_js: tuple[NATS, JetStreamContext]
) -> None:
    archive = demo_zip()  # once: a zip records the time, so two calls may differ
    response = await post_zip(client, tenant, archive)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["status"] == "queued"
    assert body["project"] == "demo"
    assert response.headers["Location"] == f"/v1/scans/{body['id']}"
    assert [entry["name"] for entry in body["history"]] == ["queued"]
    assert await store.get_bytes(f"uploads/{body['id']}.zip") == archive
    _, js = nats_js
    stored = await js.get_last_msg(STREAM, SCAN_REQUESTED)
    event = msgspec.json.decode(stored.data or b"", type=ScanRequested)
    assert str(event.scan_id) == body["id"]
    assert event.org_id == tenant.org_id
    assert event.upload_key == f"uploads/{body['id']}.zip"


async def test_get_scan_shows_it_to_its_organisation_only(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    created = await (await post_zip(client, tenant, demo_zip())).json()
    mine = await client.get(f"/v1/scans/{created['id']}", headers=auth(tenant))
    assert mine.status == 200
    assert (await mine.json())["id"] == created["id"]
    other = await make_tenant(pool)
    theirs = await client.get(f"/v1/scans/{created['id']}", headers=auth(other))
    assert theirs.status == 404
    assert_error(await theirs.json(), "not_found")


@pytest.mark.parametrize("scan_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_unknown_scans_answer_404(client: Client, tenant: Tenant, scan_id: str) -> None:
    response = await client.get(f"/v1/scans/{scan_id}", headers=auth(tenant))
    assert response.status == 404
    assert_error(await response.json(), "not_found")


async def test_keys_are_accepted_in_the_x_api_key_header(client: Client, tenant: Tenant) -> None:
    response = await client.get(f"/v1/scans/{uuid.uuid4()}", headers={"X-API-Key": tenant.key})
    assert response.status == 404  # authenticated; the scan just does not exist


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Bearer vgl_unknown"}, "invalid_api_key"),
        ({"X-API-Key": "vgl_unknown"}, "invalid_api_key"),
    ],
)
async def test_requests_without_a_valid_key_answer_401(
    client: Client, headers: dict[str, str], code: str
) -> None:
    response = await client.get(f"/v1/scans/{uuid.uuid4()}", headers=headers)
    assert response.status == 401
    assert_error(await response.json(), code)


async def test_revoked_keys_are_refused(client: Client, tenant: Tenant, pool: Pool) -> None:
    await pool.execute("UPDATE api_keys SET revoked_at = now() WHERE org_id = $1", tenant.org_id)
    response = await client.get(f"/v1/scans/{uuid.uuid4()}", headers=auth(tenant))
    assert response.status == 401


async def test_a_missing_scope_answers_403_naming_it(client: Client, pool: Pool) -> None:
    reader = await make_tenant(pool, scopes=("scans:read",))
    response = await post_zip(client, reader, demo_zip())
    assert response.status == 403
    body = await response.json()
    assert_error(body, "missing_scope")
    assert body["error"]["details"] == {"scope": "scans:write"}


@pytest.mark.parametrize(
    ("body", "content_type", "project", "status", "code"),
    [
        (demo_zip(), "text/plain", "demo", 415, "unsupported_media_type"),
        (b"", "application/zip", "demo", 422, "empty_archive"),
        (b"plain text, not an archive", "application/zip", "demo", 422, "invalid_archive"),
        (demo_zip(), "application/zip", "../escape", 422, "invalid_request"),
        (b"PK\x03\x04" + bytes(5000), "application/zip", "demo", 413, "payload_too_large"),
    ],
)
async def test_bad_uploads_get_a_precise_4xx(
    client: Client, tenant: Tenant, body: bytes, content_type: str, project: str,
    status: int, code: str, pool: Pool,
) -> None:  # fmt: skip
    before = await pool.fetchval("SELECT count(*) FROM scans WHERE org_id = $1", tenant.org_id)
    response = await client.post(
        f"/v1/scans?project={project}",
        data=body,
        headers={**auth(tenant), "Content-Type": content_type},
    )
    assert response.status == status, await response.text()
    assert_error(await response.json(), code)
    after = await pool.fetchval("SELECT count(*) FROM scans WHERE org_id = $1", tenant.org_id)
    assert after == before


async def test_unknown_routes_use_the_error_shape(client: Client) -> None:
    response = await client.get("/nowhere")
    assert response.status == 404
    assert_error(await response.json(), "not_found")
