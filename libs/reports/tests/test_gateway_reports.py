"""``GET /v1/scans/{id}/report`` on a real gateway app: formats, presigned URLs, errors."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.storage import ObjectMissing, ObjectStore

Client = TestClient[Any, Any]
HERE = Path(__file__).parent


def _builder() -> Any:
    name = "vigil_reports_tests_scan_builder"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "scan_builder.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


builder = _builder()


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


async def report(client: Client, tenant: Tenant, scan_id: uuid.UUID, **query: str) -> Any:
    return await client.get(f"/v1/scans/{scan_id}/report", params=query, headers=auth(tenant))


@pytest.mark.parametrize(
    ("fmt", "content_type", "starts"),
    [
        ("json", "application/json", b"{"),
        ("markdown", "text/markdown", b"# Vigil security report"),
        ("sarif", "application/sarif+json", b"{"),
        ("html", "text/html", b"<!DOCTYPE html>"),
        ("pdf", "application/pdf", b"%PDF-"),
    ],
)
async def test_each_format_is_served_with_its_content_type(
    client: Client, pool: Pool, tenant: Tenant, fmt: str, content_type: str, starts: bytes
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    response = await report(client, tenant, scan.scan_id, format=fmt)
    assert response.status == 200, await response.text()
    assert response.content_type == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = await response.read()
    assert body.startswith(starts)
    if fmt == "html":
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.headers["Content-Disposition"].startswith("attachment;")


async def test_json_is_the_default_and_shows_the_scan(
    client: Client, pool: Pool, tenant: Tenant
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    response = await report(client, tenant, scan.scan_id)
    data = await response.json()
    assert data["scan"]["id"] == str(scan.scan_id)
    assert data["severity_counts"] == scan.counts


async def test_delivery_url_is_a_presigned_get_of_the_stored_report(
    client: Client, pool: Pool, tenant: Tenant
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    response = await report(client, tenant, scan.scan_id, format="sarif", delivery="url")
    assert response.status == 200
    link = await response.json()
    assert link["format"] == "sarif" and link["method"] == "GET"
    assert f"/reports/{scan.scan_id}/" in link["url"] and "X-Amz-Signature" in link["url"]
    expires_at = dt.datetime.fromisoformat(link["expires_at"])
    now = dt.datetime.now(dt.UTC)
    assert now < expires_at <= now + dt.timedelta(seconds=300)
    async with aiohttp.ClientSession() as session, session.get(link["url"]) as download:
        assert download.status == 200
        assert download.headers["Content-Type"] == "application/sarif+json"
        downloaded = await download.read()
    direct = await (await report(client, tenant, scan.scan_id, format="sarif")).read()
    assert downloaded == direct
    assert json.loads(downloaded)["version"] == "2.1.0"


async def test_a_triage_decision_gives_a_new_report(
    client: Client, pool: Pool, tenant: Tenant
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    first = await (await report(client, tenant, scan.scan_id, delivery="url")).json()
    finding = (await (await report(client, tenant, scan.scan_id)).json())["findings"][0]
    patched = await client.patch(
        f"/v1/findings/{finding['id']}", headers=auth(tenant),
        json={"validity": "invalid", "reason": "only in tests"},
    )  # fmt: skip
    assert patched.status == 200
    second = await (await report(client, tenant, scan.scan_id, delivery="url")).json()
    assert second["url"].split("?")[0] != first["url"].split("?")[0]
    data = await (await report(client, tenant, scan.scan_id)).json()
    assert data["findings"][0]["validity"] == "invalid"
    assert data["findings"][0]["validity_reason"] == "only in tests"


async def test_deleting_the_scan_deletes_its_reports(
    client: Client, pool: Pool, store: ObjectStore, tenant: Tenant
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    link = await (await report(client, tenant, scan.scan_id, format="pdf", delivery="url")).json()
    key = link["url"].split("?")[0].split(f"/{store.bucket}/", 1)[1]
    assert await store.head(key) > 0
    deleted = await client.delete(f"/v1/scans/{scan.scan_id}", headers=auth(tenant))
    assert deleted.status == 204
    with pytest.raises(ObjectMissing):
        await store.head(key)


async def test_another_organisations_scan_is_not_found(
    client: Client, pool: Pool, tenant: Tenant
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    other = await make_tenant(pool)
    response = await report(client, other, scan.scan_id, format="html")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    missing = await report(client, tenant, uuid.uuid4())
    assert missing.status == 404


async def test_a_key_without_reports_read_is_refused(client: Client, pool: Pool) -> None:
    tenant = await make_tenant(pool, ("scans:read",))
    scan = await builder.build_scan(pool, tenant.org_id)
    response = await report(client, tenant, scan.scan_id)
    assert response.status == 403
    error = (await response.json())["error"]
    assert error["code"] == "missing_scope" and error["details"] == {"scope": "reports:read"}


async def test_a_running_scan_has_no_report_yet(client: Client, pool: Pool, tenant: Tenant) -> None:
    scan = await builder.build_scan(pool, tenant.org_id, status="running")
    response = await report(client, tenant, scan.scan_id, format="pdf")
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "scan_not_finished" and error["details"] == {"status": "running"}


async def test_a_failed_scan_has_a_report_saying_so(
    client: Client, pool: Pool, tenant: Tenant
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id, status="failed")
    response = await report(client, tenant, scan.scan_id, format="markdown")
    assert response.status == 200
    assert "| Status | failed |" in await response.text()


@pytest.mark.parametrize(("name", "value"), [("format", "docx"), ("delivery", "email")])
async def test_an_unknown_format_or_delivery_is_invalid(
    client: Client, pool: Pool, tenant: Tenant, name: str, value: str
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    response = await report(client, tenant, scan.scan_id, **{name: value})
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_request" and error["details"]["field"] == name
