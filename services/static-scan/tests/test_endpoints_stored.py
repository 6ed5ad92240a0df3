"""The endpoint index end to end: the real static handler stores it, the gateway serves it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import Tenant, fake_openai, make_tenant
from vigil_common.db import Pool
from vigil_common.schemas import ScanIngested
from vigil_static_scan import endpoints
from vigil_static_scan.handlers import make_handler

fake = fake_openai
fake_llm, js, make_ctx, make_scan, put_tree = (
    fake.fake_llm, fake.js, fake.make_ctx, fake.make_scan, fake.put_tree
)  # fmt: skip

Client = TestClient[Any, Any]

APP = """\
from flask import Flask
from flask_login import login_required

app = Flask(__name__)


@app.route("/")
def index():
    return "hi"


@app.route("/notes", methods=["GET", "POST"])
@login_required
def notes():
    return "notes"
"""
MCP = """\
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("tools")


@mcp.tool()
def echo(text: str) -> str:
    return text
"""


async def ingested(tenant: Tenant, make_scan: Any, put_tree: Any) -> ScanIngested:
    scan = await make_scan(tenant.org_id, "ingest")
    tree_key, manifest_key = await put_tree(scan["id"], {"app.py": APP, "tools/mcp.py": MCP})
    return ScanIngested(
        scan_id=scan["id"], org_id=tenant.org_id, tree_key=tree_key, manifest_key=manifest_key
    )


async def test_the_static_handler_stores_the_index_and_the_mcp_verdict(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Tenant, pool: Pool
) -> None:
    event = await ingested(tenant, make_scan, put_tree)
    await make_handler(make_ctx())(event)
    stored = await endpoints.load_endpoints(pool, event.scan_id)
    assert [(e.method, e.path, e.handler, e.auth) for e in stored] == [
        ("GET", "/", "index", False),
        ("GET", "/notes", "notes", True),
        ("POST", "/notes", "notes", True),
    ]
    row = await pool.fetchrow(
        "SELECT endpoint_count, is_mcp_server FROM scans WHERE id = $1", event.scan_id
    )
    assert (row["endpoint_count"], row["is_mcp_server"]) == (3, True)
    note = await pool.fetchval(
        "SELECT detail FROM scan_events WHERE scan_id = $1 AND name = 'static.done'",
        event.scan_id,
    )
    assert "endpoints: 3 (1 without visible auth); MCP server (tools/mcp.py)" in note


async def test_indexing_again_replaces_the_rows(
    make_scan: Any, tenant: Tenant, pool: Pool, tmp_path: Path
) -> None:
    scan = await make_scan(tenant.org_id, "static")
    (tmp_path / "app.py").write_text(APP)
    for _ in range(2):
        await endpoints.index_scan(pool, scan["id"], tenant.org_id, tmp_path)
    assert len(await endpoints.load_endpoints(pool, scan["id"])) == 3


async def test_a_broken_extractor_is_recorded_and_stores_nothing(
    make_scan: Any, tenant: Tenant, pool: Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(tree: Path) -> list[endpoints.Endpoint]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("vigil_static_scan.endpoints.store.extract", broken)
    scan = await make_scan(tenant.org_id, "static")
    note = await endpoints.index_scan(pool, scan["id"], tenant.org_id, tmp_path)
    assert note == "endpoints failed: RecursionError"
    count = await pool.fetchval("SELECT endpoint_count FROM scans WHERE id = $1", scan["id"])
    assert count is None


async def indexed_scan(pool: Pool, make_scan: Any, tenant: Tenant, tmp_path: Path) -> str:
    scan = await make_scan(tenant.org_id, "static")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "mcp.py").write_text(MCP)
    await endpoints.index_scan(pool, scan["id"], tenant.org_id, tmp_path)
    return str(scan["id"])


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


async def test_the_api_lists_and_filters_a_scans_endpoints(
    client: Client, pool: Pool, make_scan: Any, tenant: Tenant, tmp_path: Path
) -> None:
    scan_id = await indexed_scan(pool, make_scan, tenant, tmp_path)
    url = f"/v1/scans/{scan_id}/endpoints"
    response = await client.get(url, headers=auth(tenant))
    assert response.status == 200
    body = await response.json()
    assert (body["total"], body["indexed"]) == (3, True)
    assert body["items"][0] == {
        "method": "GET", "path": "/", "file_path": "app.py", "line": 8, "handler": "index",
        "framework": "flask", "auth": False, "auth_hint": "",
    }  # fmt: skip
    guarded = await (await client.get(f"{url}?auth=true&method=post", headers=auth(tenant))).json()
    assert [(e["method"], e["auth_hint"]) for e in guarded["items"]] == [("POST", "login_required")]
    scan = await (await client.get(f"/v1/scans/{scan_id}", headers=auth(tenant))).json()
    assert (scan["endpoint_count"], scan["is_mcp_server"]) == (3, True)


async def test_bad_filters_get_422(
    client: Client, pool: Pool, make_scan: Any, tenant: Tenant, tmp_path: Path
) -> None:
    scan_id = await indexed_scan(pool, make_scan, tenant, tmp_path)
    for query in ("auth=yes", "method=FETCH"):
        response = await client.get(f"/v1/scans/{scan_id}/endpoints?{query}", headers=auth(tenant))
        assert response.status == 422
        assert (await response.json())["error"]["code"] == "invalid_request"


async def test_another_organisation_gets_404(
    client: Client, pool: Pool, make_scan: Any, tenant: Tenant, tmp_path: Path
) -> None:
    scan_id = await indexed_scan(pool, make_scan, tenant, tmp_path)
    other = await make_tenant(pool)
    response = await client.get(f"/v1/scans/{scan_id}/endpoints", headers=auth(other))
    assert response.status == 404
    missing = await client.get(f"/v1/scans/{uuid.uuid4()}/endpoints", headers=auth(tenant))
    assert missing.status == 404


async def test_a_scan_not_yet_indexed_says_so(
    client: Client, make_scan: Any, tenant: Tenant
) -> None:
    scan = await make_scan(tenant.org_id, "ingest")
    body = await (
        await client.get(f"/v1/scans/{scan['id']}/endpoints", headers=auth(tenant))
    ).json()
    assert (body["items"], body["indexed"]) == ([], False)
