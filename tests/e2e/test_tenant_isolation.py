"""The tenant-isolation matrix over every operation of the API, against a gateway process.

Organisation A owns one of everything a path can name (a scan with a finding, a webhook
endpoint, a key, an MCP session); organisation B has its own key with every scope. For each
operation the served OpenAPI document lists:

- no key: 401;
- B's key on A's resource: 404, the same answer as for a resource that does not exist, so
  existence does not leak either;
- A's key on the same request: anything but 401, 403 or 404 (the request reached the resource);
- lists and organisation-wide reads with B's key never contain one of A's ids.

The operations are read from the running gateway, and an operation this table does not
classify fails the test: a new endpoint cannot skip the matrix.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_devstack.services import ServiceProcess, python_env, start_service, wait_ready

KEY: Final = "vgl_isolation-key-not-a-secret-00000000000000"
MCP_VERSION: Final = "2025-06-18"
HOOK: Final = {"url": "http://127.0.0.1:9/hook", "event_types": ["scan.completed"]}
# Operations on one resource of A's, with the JSON body a valid request sends.
ON_RESOURCE: Final[dict[tuple[str, str], Any]] = {
    ("GET", "/v1/scans/{scan_id}"): None,
    ("DELETE", "/v1/scans/{scan_id}"): None,
    ("POST", "/v1/scans/{scan_id}/start"): None,
    ("POST", "/v1/scans/{scan_id}/cancel"): None,
    ("GET", "/v1/scans/{scan_id}/findings"): None,
    ("GET", "/v1/scans/{scan_id}/report"): None,
    ("GET", "/v1/scans/{scan_id}/diff"): None,
    ("GET", "/v1/scans/{scan_id}/endpoints"): None,
    ("GET", "/v1/findings/{finding_id}"): None,
    ("PATCH", "/v1/findings/{finding_id}"): {"validity": "valid", "reason": "isolation test"},
    ("GET", "/v1/findings/{finding_id}/comments"): None,
    ("POST", "/v1/findings/{finding_id}/comments"): {"body": "a comment"},
    ("DELETE", "/v1/keys/{key_id}"): None,
    ("GET", "/v1/webhooks/{endpoint_id}"): None,
    ("PATCH", "/v1/webhooks/{endpoint_id}"): {"description": "renamed"},
    ("DELETE", "/v1/webhooks/{endpoint_id}"): None,
    ("POST", "/v1/webhooks/{endpoint_id}/rotate-secret"): None,
    ("GET", "/v1/webhooks/{endpoint_id}/deliveries"): None,
    ("POST", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"): None,
}
# Reads of the caller's own organisation: B's answers must not hold A's ids.
OWN_ORGANISATION: Final = [
    ("GET", "/v1/scans"), ("GET", "/v1/findings"), ("GET", "/v1/keys"),
    ("GET", "/v1/webhooks"), ("GET", "/v1/audit-log"), ("GET", "/v1/me"),
    ("GET", "/v1/organisation"),
]  # fmt: skip
# Writes that create in, or change, the caller's own organisation only (no id in the path).
OWN_WRITES: Final = [
    ("POST", "/v1/scans"), ("POST", "/v1/keys"), ("POST", "/v1/webhooks"),
    ("PATCH", "/v1/organisation"),
]  # fmt: skip
MCP: Final = [("POST", "/v1/mcp"), ("GET", "/v1/mcp"), ("DELETE", "/v1/mcp")]


@dataclass
class Answer:
    """One HTTP answer: status, headers and the body as text."""

    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def call(
    gateway: ServiceProcess,
    method: str,
    path: str,
    key: str | None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request to the gateway process; errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(gateway.base_url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json, text/event-stream")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


@dataclass
class Owned:
    """A's resources, by path parameter name."""

    ids: dict[str, str]
    mcp_session: str


@pytest.fixture(scope="module")
def gateway(
    test_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, pool: Pool
) -> Iterator[ServiceProcess]:
    """A gateway process on the migrated test database (``pool`` migrates it)."""
    env = python_env({
        **test_env, "VIGIL_BOOTSTRAP_API_KEY": KEY, "VIGIL_RATE_LIMIT_READS": "100000000",
        "VIGIL_RATE_LIMIT_WRITES": "100000000", "VIGIL_RATE_LIMIT_SCANS": "100000000",
        "VIGIL_ALLOW_PRIVATE_NETWORKS": "true", "VIGIL_LOG_LEVEL": "WARNING",
    })  # fmt: skip
    service = start_service("gateway", env, Path(tmp_path_factory.mktemp("isolation")))
    try:
        wait_ready(service)
        yield service
    finally:
        service.stop()


@pytest.fixture
async def tenants(pool: Pool) -> tuple[Tenant, Tenant]:
    return await make_tenant(pool), await make_tenant(pool)


async def own_everything(gateway: ServiceProcess, pool: Pool, a: Tenant) -> Owned:
    """One of each resource for A, made through the API where one exists."""
    created = call(gateway, "POST", "/v1/scans", a.key, {"source_type": "zip"})
    assert created.status == 201, created.text
    scan_id = created.json()["id"]
    finding_id = await pool.fetchval(
        "INSERT INTO findings (scan_id, org_id, project_id, fingerprint, scanner, rule_id,"
        " severity, confidence, title, file_path, start_line, end_line)"
        " SELECT id, org_id, project_id, 'fp', 'semgrep', 'r', 'high', 'high', 't', 'a.py', 1, 1"
        " FROM scans WHERE id = $1 RETURNING id",
        uuid.UUID(scan_id),
    )
    key = call(gateway, "POST", "/v1/keys", a.key, {"name": "second", "scopes": ["scans:read"]})
    assert key.status == 201, key.text
    hook = call(gateway, "POST", "/v1/webhooks", a.key, HOOK)
    assert hook.status == 201, hook.text
    ids = {
        "scan_id": scan_id,
        "finding_id": str(finding_id),
        "key_id": key.json()["id"],
        "endpoint_id": hook.json()["id"],
        "delivery_id": str(uuid.uuid4()),  # none exists: both organisations get 404 for it
    }
    return Owned(ids, mcp_initialize(gateway, a.key))


def mcp_initialize(gateway: ServiceProcess, key: str) -> str:
    """A new MCP session of ``key``'s organisation; its id."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": MCP_VERSION, "capabilities": {},
                   "clientInfo": {"name": "isolation-test", "version": "1"}},
    }  # fmt: skip
    answer = call(gateway, "POST", "/v1/mcp", key, body)
    assert answer.status == 200, answer.text
    session = {k.lower(): v for k, v in answer.headers.items()}["mcp-session-id"]
    notified = call(
        gateway, "POST", "/v1/mcp", key,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"Mcp-Session-Id": session, "Mcp-Protocol-Version": MCP_VERSION},
    )  # fmt: skip
    assert notified.status in {200, 202}, notified.text
    return session


def mcp_tool(gateway: ServiceProcess, key: str, session: str, name: str, args: Any) -> Answer:
    body = {
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": name, "arguments": args},
    }  # fmt: skip
    return call(
        gateway, "POST", "/v1/mcp", key, body,
        {"Mcp-Session-Id": session, "Mcp-Protocol-Version": MCP_VERSION},
    )  # fmt: skip


def operations(gateway: ServiceProcess) -> set[tuple[str, str]]:
    """Every (method, path) the served OpenAPI document lists."""
    document = call(gateway, "GET", "/v1/openapi.json", None).json()
    verbs = {"get", "post", "put", "patch", "delete"}
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in verbs
    }


def test_every_operation_is_in_the_matrix(gateway: ServiceProcess) -> None:
    known = {*ON_RESOURCE, *OWN_ORGANISATION, *OWN_WRITES, *MCP}
    served = operations(gateway)
    assert served - known == set(), "new operations: add them to the isolation matrix"
    assert known - served == set(), "operations the document no longer lists"


@pytest.mark.parametrize(("method", "path"), list(ON_RESOURCE), ids=" ".join)
async def test_another_organisation_gets_404_for_each_resource(
    gateway: ServiceProcess, pool: Pool, tenants: tuple[Tenant, Tenant], method: str, path: str
) -> None:
    a, b = tenants
    owned = await own_everything(gateway, pool, a)
    url, body = path.format(**owned.ids), ON_RESOURCE[(method, path)]
    assert call(gateway, method, url, None, body).status == 401
    theirs = call(gateway, method, url, b.key, body)
    assert theirs.status == 404, theirs.text
    assert theirs.json()["error"]["code"] == "not_found"
    mine = call(gateway, method, url, a.key, body)
    if "{delivery_id}" in path:  # no delivery exists: A too learns only that
        assert mine.status == 404 and "delivery" in mine.text.lower(), mine.text
    else:
        assert mine.status not in {401, 403, 404}, mine.text


@pytest.mark.parametrize(("method", "path"), OWN_ORGANISATION, ids=" ".join)
async def test_reads_of_ones_own_organisation_hold_nothing_of_anothers(
    gateway: ServiceProcess, pool: Pool, tenants: tuple[Tenant, Tenant], method: str, path: str
) -> None:
    a, b = tenants
    owned = await own_everything(gateway, pool, a)
    assert call(gateway, method, path, None).status == 401
    mine = call(gateway, method, path, a.key)
    assert mine.status == 200, mine.text
    theirs = call(gateway, method, path, b.key)
    assert theirs.status == 200, theirs.text
    leaked = [name for name, value in owned.ids.items() if value in theirs.text]
    assert leaked == [], f"B's {path} shows A's {leaked}"
    assert str(a.org_id) not in theirs.text


@pytest.mark.parametrize(("method", "path"), OWN_WRITES, ids=" ".join)
def test_writes_need_a_key(gateway: ServiceProcess, method: str, path: str) -> None:
    assert call(gateway, method, path, None, {}).status == 401


async def test_an_mcp_session_belongs_to_its_organisation(
    gateway: ServiceProcess, pool: Pool, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    owned = await own_everything(gateway, pool, a)
    for method in ("POST", "GET", "DELETE"):
        assert call(gateway, method, "/v1/mcp", None).status == 401
    # B presenting A's session id: unknown to B (404), as the MCP spec has it.
    stolen = mcp_tool(gateway, b.key, owned.mcp_session, "get_scan", {"scan_id": "x"})
    assert stolen.status == 404, stolen.text
    ended = call(gateway, "DELETE", "/v1/mcp", b.key, None, {"Mcp-Session-Id": owned.mcp_session})
    assert ended.status == 404, ended.text
    # B's own session asking for A's things: tool errors, nothing of A's in them.
    session = mcp_initialize(gateway, b.key)
    ids = owned.ids
    for name, args in (
        ("get_scan", {"scan_id": ids["scan_id"]}),
        ("get_finding", {"finding_id": ids["finding_id"]}),
        ("list_findings", {"scan_id": ids["scan_id"]}),
        ("triage_finding", {"finding_id": ids["finding_id"], "validity": "valid"}),
        ("get_report", {"scan_id": ids["scan_id"]}),
    ):
        answer = mcp_tool(gateway, b.key, session, name, args)
        assert answer.status == 200, answer.text
        result = answer.json()["result"]
        assert result["isError"] and result["structuredContent"]["error"]["code"] == "not_found"
        assert "'semgrep'" not in answer.text and '"a.py"' not in answer.text
    # A's own session still works: the matrix is not passing because MCP is broken.
    finding = {"finding_id": ids["finding_id"]}
    found = mcp_tool(gateway, a.key, owned.mcp_session, "get_finding", finding)
    assert found.status == 200 and not found.json()["result"].get("isError"), found.text
