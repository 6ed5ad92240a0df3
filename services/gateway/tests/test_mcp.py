"""The MCP server at /v1/mcp, driven by the official MCP Python SDK over a real loopback port."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiohttp.test_utils import TestClient
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.findings import fingerprint, insert_findings
from vigil_common.schemas import Finding
from vigil_common.storage import ObjectStore
from vigil_common.subjects import MCP_SESSIONS_BUCKET
from vigil_gateway.keys import create_key
from vigil_gateway.mcp.sessions import SESSION_TTL_SECONDS, SessionStore

Client = TestClient[Any, Any]
PATH = "/v1/mcp"
ACCEPT = "application/json, text/event-stream"


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


@asynccontextmanager
async def mcp_session(client: Client, tenant: Tenant) -> AsyncIterator[ClientSession]:
    """An initialized SDK session against the test gateway's real TCP port."""
    url = str(client.make_url(PATH))
    async with (
        httpx.AsyncClient(headers=auth(tenant), timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def payload(result: CallToolResult) -> Any:
    """The tool's JSON answer; the text content and structuredContent say the same."""
    assert isinstance(result.content[0], TextContent)
    value = json.loads(result.content[0].text)
    assert result.structuredContent == value
    return value


def finding(rule: str, severity: str, path: str) -> Finding:
    return Finding(
        scanner="semgrep", rule_id=rule, title=rule, severity=severity,  # type: ignore[arg-type]
        file_path=path, start_line=3, end_line=3, snippet=rule,
        fingerprint=fingerprint("semgrep", rule, path, rule),
    )  # fmt: skip


async def scan_with_findings(pool: Pool, tenant: Tenant) -> uuid.UUID:
    """A completed scan whose findings are written the way the stages write them."""
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, 'shop') ON CONFLICT (org_id, name)"
        " DO UPDATE SET name = EXCLUDED.name RETURNING id",
        tenant.org_id,
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status)"
        " VALUES ($1, $2, $3, 'upload', 'completed')",
        scan_id,
        tenant.org_id,
        project_id,
    )
    findings = [
        finding("sqli", "high", "app/db.py"),
        finding("xss", "medium", "app/views.py"),
        finding("debug", "low", "settings.py"),
    ]
    scan = {"id": scan_id, "org_id": tenant.org_id, "project_id": project_id}
    await insert_findings(pool, scan, findings)
    return scan_id


async def post_rpc(
    client: Client, tenant: Tenant, body: Any, session_id: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    headers = {**auth(tenant), "Accept": ACCEPT}
    if session_id:
        headers["Mcp-Session-Id"] = session_id
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers["Content-Type"] = "application/json"
    response = await client.post(PATH, data=raw, headers=headers)
    text = await response.text()
    return response.status, (json.loads(text) if text else None), dict(response.headers)


async def raw_session(
    client: Client, tenant: Tenant, version: str = "2025-06-18", expect: str | None = None
) -> str:
    init = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "0"}},
    }  # fmt: skip
    status, body, headers = await post_rpc(client, tenant, init)
    assert status == 200, body
    assert body["result"]["protocolVersion"] == (expect or version)
    return headers["Mcp-Session-Id"]


async def test_an_unknown_version_is_answered_with_the_newest_supported(
    client: Client, tenant: Tenant
) -> None:
    # What the SDK 1.29 client does: it asks for 2025-11-25 and accepts 2025-06-18.
    await raw_session(client, tenant, "2025-11-25", expect="2025-06-18")
    await raw_session(client, tenant, "1999-01-01", expect="2025-06-18")


async def test_initialize_negotiates_a_version_and_lists_the_tools(
    client: Client, tenant: Tenant
) -> None:
    async with mcp_session(client, tenant) as session:
        assert session.get_server_capabilities() is not None
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == {
            "start_scan", "get_scan", "list_findings", "get_finding", "triage_finding",
            "get_report",
        }  # fmt: skip
        schema = tools["triage_finding"].inputSchema
        assert schema["type"] == "object"
        assert set(schema["required"]) == {"finding_id", "validity"}
        assert set(schema["properties"]["validity"]["enum"]) == {"valid", "invalid", "acknowledged"}
        assert tools["get_scan"].annotations is not None
        assert tools["get_scan"].annotations.readOnlyHint is True
        templates = await session.list_resource_templates()
        assert "vigil://scans/{scan_id}" in {t.uriTemplate for t in templates.resourceTemplates}


async def test_start_scan_from_git_creates_a_scan_visible_through_rest(
    client: Client, tenant: Tenant
) -> None:
    async with mcp_session(client, tenant) as session:
        result = await session.call_tool(
            "start_scan",
            {"repo_url": "https://github.com/acme/shop.git", "ref": "main", "project": "shop"},
        )
        assert not result.isError, result.content
        scan = payload(result)
    assert scan["status"] == "queued"
    rest = await client.get(f"/v1/scans/{scan['id']}", headers=auth(tenant))
    assert rest.status == 200
    body = await rest.json()
    assert body["project"] == "shop"
    assert body["source"]["type"] == "git"
    assert body["source"]["repo_url"] == "https://github.com/acme/shop.git"
    assert body["source"]["ref"] == "main"


async def test_start_scan_from_an_inline_archive_stores_and_queues_it(
    client: Client, tenant: Tenant, store: ObjectStore
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "import os\nos.system(input())\n")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    async with mcp_session(client, tenant) as session:
        result = await session.call_tool("start_scan", {"archive_base64": encoded})
        assert not result.isError, result.content
        scan = payload(result)
        not_zip = await session.call_tool(
            "start_scan", {"archive_base64": base64.b64encode(b"hello").decode()}
        )
    assert not_zip.isError
    assert payload(not_zip)["error"]["code"] == "invalid_archive"
    rest = await (await client.get(f"/v1/scans/{scan['id']}", headers=auth(tenant))).json()
    assert (rest["status"], rest["source"]["type"], rest["project"]) == (
        "queued", "upload", "default",
    )  # fmt: skip
    assert await store.head(f"uploads/{scan['id']}.zip") == len(buffer.getvalue())


async def test_get_scan_and_list_and_get_findings(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await scan_with_findings(pool, tenant)
    async with mcp_session(client, tenant) as session:
        scan = payload(await session.call_tool("get_scan", {"scan_id": str(scan_id)}))
        assert (scan["id"], scan["status"]) == (str(scan_id), "completed")
        listed = payload(await session.call_tool("list_findings", {"scan_id": str(scan_id)}))
        assert {f["rule_id"] for f in listed["items"]} == {"sqli", "xss", "debug"}
        filtered = payload(
            await session.call_tool(
                "list_findings",
                {"scan_id": str(scan_id), "severity": ["high", "medium"], "file_prefix": "app/"},
            )
        )
        assert {f["rule_id"] for f in filtered["items"]} == {"sqli", "xss"}
        first = payload(await session.call_tool("list_findings", {"limit": 1}))
        assert len(first["items"]) == 1 and first["next_cursor"]
        second = payload(
            await session.call_tool("list_findings", {"limit": 1, "cursor": first["next_cursor"]})
        )
        assert second["items"][0]["id"] != first["items"][0]["id"]
        one = listed["items"][0]
        got = payload(await session.call_tool("get_finding", {"finding_id": one["id"]}))
        assert got == one
        bad = await session.call_tool("list_findings", {"severity": ["urgent"]})
        assert bad.isError
        resource = await session.read_resource(f"vigil://scans/{scan_id}")  # type: ignore[arg-type]
        text = resource.contents[0].text  # type: ignore[union-attr]
        assert len(json.loads(text)["findings"]) == 3


async def test_triage_finding_changes_validity_and_is_audited(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await scan_with_findings(pool, tenant)
    finding_id = await pool.fetchval(
        "SELECT id FROM findings WHERE scan_id = $1 AND rule_id = 'sqli'", scan_id
    )
    reason = "the id is an integer checked upstream"
    async with mcp_session(client, tenant) as session:
        missing_reason = await session.call_tool(
            "triage_finding", {"finding_id": str(finding_id), "validity": "invalid"}
        )
        assert missing_reason.isError
        assert payload(missing_reason)["error"]["details"]["field"] == "reason"
        result = await session.call_tool(
            "triage_finding",
            {"finding_id": str(finding_id), "validity": "invalid", "reason": reason},
        )
        assert not result.isError, result.content
        assert payload(result)["validity"] == "invalid"
    rest = await (await client.get(f"/v1/findings/{finding_id}", headers=auth(tenant))).json()
    assert (rest["validity"], rest["validity_reason"]) == ("invalid", reason)
    log = await (await client.get("/v1/audit-log", headers=auth(tenant))).json()
    entry = next(e for e in log["items"] if e["action"] == "finding.triaged")
    assert entry["target_id"] == str(finding_id)
    assert entry["details"]["reason"] == reason


async def test_a_missing_scope_is_a_tool_error_naming_it(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await scan_with_findings(pool, tenant)
    finding_id = await pool.fetchval("SELECT id FROM findings WHERE scan_id = $1", scan_id)
    key = await create_key(pool, tenant.org_id, "reader", ("scans:read",))
    assert key is not None
    reader = Tenant(tenant.org_id, key)
    async with mcp_session(client, reader) as session:
        readable = await session.call_tool("get_finding", {"finding_id": str(finding_id)})
        assert not readable.isError, readable.content
        result = await session.call_tool(
            "triage_finding", {"finding_id": str(finding_id), "validity": "valid"}
        )
        started = await session.call_tool(
            "start_scan", {"repo_url": "https://github.com/acme/shop.git"}
        )
    assert result.isError
    error = payload(result)["error"]
    assert (error["status"], error["code"], error["details"]) == (
        403, "missing_scope", {"scope": "findings:write"},
    )  # fmt: skip
    assert "findings:write" in error["message"]
    assert payload(started)["error"]["details"] == {"scope": "scans:write"}


async def test_another_organisations_scan_and_finding_are_not_found(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    other = await make_tenant(pool)
    scan_id = await scan_with_findings(pool, other)
    finding_id = await pool.fetchval("SELECT id FROM findings WHERE scan_id = $1", scan_id)
    async with mcp_session(client, tenant) as session:
        scan = await session.call_tool("get_scan", {"scan_id": str(scan_id)})
        listed = await session.call_tool("list_findings", {"scan_id": str(scan_id)})
        everything = payload(await session.call_tool("list_findings", {}))
        triaged = await session.call_tool(
            "triage_finding", {"finding_id": str(finding_id), "validity": "valid"}
        )
    for result in (scan, listed, triaged):
        assert result.isError
        assert payload(result)["error"]["code"] == "not_found"
    assert everything["items"] == []
    untouched = await pool.fetchval("SELECT validity FROM findings WHERE id = $1", finding_id)
    assert untouched == "unreviewed"


async def test_no_key_is_401(client: Client) -> None:
    response = await client.post(
        PATH, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers={"Accept": ACCEPT}
    )
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthenticated"


async def test_cross_origin_pages_and_idempotency_keys_are_refused(
    client: Client, tenant: Tenant
) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    foreign = await client.post(
        PATH, json=ping, headers={**auth(tenant), "Origin": "https://evil.example"}
    )
    assert (foreign.status, (await foreign.json())["error"]["code"]) == (
        403, "cross_origin_refused",
    )  # fmt: skip
    same = await client.post(
        PATH, json=ping, headers={**auth(tenant), "Origin": str(client.make_url(""))}
    )
    assert same.status == 400  # past the origin check: no session yet
    keyed = await client.post(PATH, json=ping, headers={**auth(tenant), "Idempotency-Key": "k"})
    assert (keyed.status, (await keyed.json())["error"]["code"]) == (
        400, "invalid_idempotency_key",
    )  # fmt: skip


async def test_malformed_json_rpc_gets_json_rpc_errors(client: Client, tenant: Tenant) -> None:
    for garbage in (b"{not json", b"\xff", b"[" * 100_000 + b"]" * 100_000):
        status, body, _ = await post_rpc(client, tenant, garbage)
        assert (status, body["error"]["code"], body["id"]) == (400, -32700, None)
    session_id = await raw_session(client, tenant)
    status, body, _ = await post_rpc(client, tenant, {"jsonrpc": "1.0", "id": 7}, session_id)
    assert (status, body["error"]["code"], body["id"]) == (400, -32600, 7)
    status, body, _ = await post_rpc(
        client, tenant, {"jsonrpc": "2.0", "id": 8, "method": "tools/destroy"}, session_id
    )
    assert (status, body["error"]["code"], body["id"]) == (200, -32601, 8)
    call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "rm"}}
    status, body, _ = await post_rpc(client, tenant, call, session_id)
    assert (status, body["error"]["code"]) == (200, -32602)
    status, body, _ = await post_rpc(client, tenant, [], session_id)
    assert (status, body["error"]["code"]) == (400, -32600)


async def test_sessions_are_required_bound_to_the_key_and_end_on_delete(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    status, body, _ = await post_rpc(client, tenant, ping)
    assert status == 400
    session_id = await raw_session(client, tenant)
    notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    status, body, _ = await post_rpc(client, tenant, notification, session_id)
    assert (status, body) == (202, None)
    status, body, _ = await post_rpc(client, tenant, ping, session_id)
    assert (status, body) == (200, {"jsonrpc": "2.0", "id": 1, "result": {}})
    batch = [ping, {**ping, "id": 2}, notification]
    status, body, _ = await post_rpc(client, tenant, batch, session_id)
    assert (status, [answer["id"] for answer in body]) == (200, [1, 2])

    stranger = await make_tenant(pool)
    status, _, _ = await post_rpc(client, stranger, ping, session_id)
    assert status == 404
    headers = {**auth(tenant), "Mcp-Session-Id": session_id}
    stream = await client.get(PATH, headers={**headers, "Accept": "text/event-stream"})
    assert stream.status == 405
    assert await (await client.delete(PATH, headers=headers)).read() == b""
    status, _, _ = await post_rpc(client, tenant, ping, session_id)
    assert status == 404
    assert (await client.delete(PATH, headers=headers)).status == 404


async def test_2025_03_26_results_carry_text_content_only(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await scan_with_findings(pool, tenant)
    session_id = await raw_session(client, tenant, "2025-03-26")
    call = {
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get_scan", "arguments": {"scan_id": str(scan_id)}},
    }  # fmt: skip
    status, body, _ = await post_rpc(client, tenant, call, session_id)
    assert status == 200
    assert "structuredContent" not in body["result"]
    assert json.loads(body["result"]["content"][0]["text"])["id"] == str(scan_id)


async def test_the_triage_prompt_names_the_scan(client: Client, tenant: Tenant) -> None:
    async with mcp_session(client, tenant) as session:
        prompts = await session.list_prompts()
        assert [p.name for p in prompts.prompts] == ["triage_scan"]
        prompt = await session.get_prompt("triage_scan", {"scan_id": "abc"})
    content = prompt.messages[0].content
    assert isinstance(content, TextContent)
    assert "list_findings with scan_id abc" in content.text


async def test_get_report_renders_markdown_json_and_sarif(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await scan_with_findings(pool, tenant)
    async with mcp_session(client, tenant) as session:
        markdown = await session.call_tool("get_report", {"scan_id": str(scan_id)})
        as_json = await session.call_tool("get_report", {"scan_id": str(scan_id), "format": "json"})
        sarif = await session.call_tool("get_report", {"scan_id": str(scan_id), "format": "sarif"})
        started = payload(
            await session.call_tool("start_scan", {"repo_url": "https://github.com/acme/a.git"})
        )
        unfinished = await session.call_tool("get_report", {"scan_id": started["id"]})
    for result in (markdown, as_json, sarif):
        assert not result.isError, result.content
    assert isinstance(markdown.content[0], TextContent)
    assert "app/db.py" in markdown.content[0].text
    assert markdown.structuredContent is not None
    assert markdown.structuredContent["text"] == markdown.content[0].text
    assert as_json.structuredContent is not None and sarif.structuredContent is not None
    assert str(scan_id) in json.dumps(as_json.structuredContent["report"])
    assert sarif.structuredContent["report"]["version"] == "2.1.0"
    assert unfinished.isError
    assert payload(unfinished)["error"]["code"] == "scan_not_finished"


async def test_a_session_bucket_made_with_other_settings_is_used_as_it_is(
    nats_js: tuple[NATS, JetStreamContext],
) -> None:
    _, js = nats_js
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(MCP_SESSIONS_BUCKET)
    await js.create_key_value(bucket=MCP_SESSIONS_BUCKET, ttl=SESSION_TTL_SECONDS * 2)
    try:
        sessions = await SessionStore.open_bucket(js)
        key_id = uuid.uuid4()
        session_id = await sessions.open(key_id, "2025-06-18")
        assert await sessions.find(session_id, key_id) is not None
        assert await sessions.find(session_id, uuid.uuid4()) is None
        status = await (await js.key_value(MCP_SESSIONS_BUCKET)).status()
        assert status.ttl == SESSION_TTL_SECONDS * 2  # bound to, not replaced
    finally:
        await js.delete_key_value(MCP_SESSIONS_BUCKET)  # the next gateway makes its own
