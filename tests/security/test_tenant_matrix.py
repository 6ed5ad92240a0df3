"""Tenant isolation over every operation of the served API, against a real gateway process.

Organisation A owns one of everything a path parameter can name (a completed scan with a
finding, a scan waiting to start, a queued scan, a webhook endpoint with a delivery, a second
API key); organisation B has its own key with every scope and its own scan and endpoint.
Every name A gives its things carries a marker string, so a leak shows in any answer to B.

- (a) operations on a resource named in the path: no key 401; B's key on A's resource 404,
  the very answer B gets for an id that does not exist; a write by B changes nothing A sees;
  A's key on the same request gets the status the operation answers when it succeeds.
- (b) listings and reads of one's own organisation: B's answer holds none of A's ids, its
  organisation id or its marker, while A's own answer does hold them (the check can fail).
- (w) writes that create in, or change, the caller's own organisation: they stay in B's.
- (m) the MCP endpoint: B cannot use A's session, and B's tools and resources named with A's
  ids answer errors with nothing of A's in them (the official SDK client drives it).
- Query parameters that name another organisation's resources (a diff base, a finding
  filter, an idempotency key) reach nothing of A's either.

The operations come from ``GET /v1/openapi.json`` of the running gateway; one this module does
not classify fails ``test_every_served_operation_is_classified``, so a new endpoint cannot skip
the matrix. Every resource case gets resources made for it alone, so destructive operations
(deletes, cancel, start, key revocation, redelivery) cannot spoil a later case.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError
from mcp.types import CallToolResult, TextContent
from pydantic import AnyUrl

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.findings import fingerprint, insert_findings, severity_counts
from vigil_common.scans import complete_scan, start_stage
from vigil_common.schemas import Finding
from vigil_devstack.services import ServiceProcess, python_env, start_service, wait_ready

BOOTSTRAP_KEY: Final = "vgl_tenant-matrix-key-not-a-secret-000000000000"
UNLIMITED: Final = "100000000"
MCP_VERSION: Final = "2025-06-18"
VERBS: Final = frozenset({"get", "put", "post", "patch", "delete"})
ScanKind = Literal["completed", "uploaded", "queued"]


@dataclass(frozen=True)
class Case:
    """One operation on a resource named in its path, and what A gets when it works."""

    method: str
    path: str
    ok: int
    body: Any = None
    query: str = ""
    scan: ScanKind = "completed"  # what {scan_id} names: start needs an uploaded scan, ...
    destructive: bool = False  # deletes, revokes or changes state: its own resources only


RESOURCE_CASES: Final = (
    Case("GET", "/v1/scans/{scan_id}", 200, query="?include_findings=true"),
    Case("DELETE", "/v1/scans/{scan_id}", 204, destructive=True),
    Case("POST", "/v1/scans/{scan_id}/start", 200, scan="uploaded", destructive=True),
    Case("POST", "/v1/scans/{scan_id}/cancel", 200, scan="queued", destructive=True),
    Case("GET", "/v1/scans/{scan_id}/findings", 200),
    Case("GET", "/v1/scans/{scan_id}/report", 200, query="?format=json"),
    Case("GET", "/v1/scans/{scan_id}/diff", 200),
    Case("GET", "/v1/scans/{scan_id}/endpoints", 200),
    Case("GET", "/v1/findings/{finding_id}", 200),
    Case("PATCH", "/v1/findings/{finding_id}", 200,
         {"validity": "invalid", "reason": "tenant matrix"}, destructive=True),
    Case("GET", "/v1/findings/{finding_id}/comments", 200),
    Case("POST", "/v1/findings/{finding_id}/comments", 201, {"body": "from the matrix"},
         destructive=True),
    Case("DELETE", "/v1/keys/{key_id}", 204, destructive=True),
    Case("GET", "/v1/webhooks/{endpoint_id}", 200),
    Case("PATCH", "/v1/webhooks/{endpoint_id}", 200, {"description": "renamed", "enabled": False},
         destructive=True),
    Case("DELETE", "/v1/webhooks/{endpoint_id}", 204, destructive=True),
    Case("POST", "/v1/webhooks/{endpoint_id}/rotate-secret", 200, destructive=True),
    Case("GET", "/v1/webhooks/{endpoint_id}/deliveries", 200),
    Case("POST", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", 202,
         destructive=True),
)  # fmt: skip
# Reads of the caller's own organisation, with the owned things A's own answer must show.
LISTINGS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("GET", "/v1/scans"): ("scan_id",),
    ("GET", "/v1/findings"): ("finding_id",),
    ("GET", "/v1/keys"): ("key_id",),
    ("GET", "/v1/webhooks"): ("endpoint_id",),
    ("GET", "/v1/audit-log"): ("finding_id", "key_id"),
    ("GET", "/v1/me"): ("org_id",),
    ("GET", "/v1/organisation"): ("org_id",),
}
# Writes into the caller's own organisation (no id in the path), with a valid body.
OWN_WRITES: Final[dict[tuple[str, str], Any]] = {
    ("POST", "/v1/scans"): {"source_type": "zip", "project": "b-project"},
    ("POST", "/v1/keys"): {"name": "b-key", "scopes": ["scans:read"]},
    ("POST", "/v1/webhooks"): {"url": "http://127.0.0.1:9/b", "event_types": ["scan.completed"]},
    ("PATCH", "/v1/organisation"): {"retention_days": 7},
}
MCP_OPERATIONS: Final = frozenset({("POST", "/v1/mcp"), ("GET", "/v1/mcp"), ("DELETE", "/v1/mcp")})
# Operations the document marks public (``security: []``): none, every operation needs a key.
PUBLIC: Final[frozenset[tuple[str, str]]] = frozenset()
# Routes outside the document that answer without a key.
UNDOCUMENTED_PUBLIC: Final = ("/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/docs")


def _label(operation: tuple[str, str]) -> str:
    return " ".join(operation)


@dataclass
class Org:
    """A tenant, the marker every name it gives carries, and the ids of what it owns."""

    tenant: Tenant
    mark: str
    ids: dict[str, str] = field(default_factory=dict)
    extra_key: str = ""  # the secret of the key ``ids["key_id"]`` names

    @property
    def key(self) -> str:
        return self.tenant.key

    def secrets(self) -> list[str]:
        """Strings that must never appear in another organisation's answers."""
        return [self.mark, str(self.tenant.org_id), *self.ids.values()]


# --- the gateway process and the two organisations --------------------------------------


@pytest.fixture(scope="module")
def gateway(
    test_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, pool: Pool
) -> Iterator[ServiceProcess]:
    """A gateway process on the migrated test database (``pool`` migrates it)."""
    env = python_env({
        **test_env, "VIGIL_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY, "VIGIL_LOG_LEVEL": "WARNING",
        "VIGIL_RATE_LIMIT_READS": UNLIMITED, "VIGIL_RATE_LIMIT_WRITES": UNLIMITED,
        "VIGIL_RATE_LIMIT_SCANS": UNLIMITED, "VIGIL_RATE_LIMIT_TRIAGE": UNLIMITED,
        "VIGIL_MAX_RUNNING_SCANS_PER_ORG": "0",
    })  # fmt: skip
    service = start_service("gateway", env, Path(tmp_path_factory.mktemp("tenant-matrix")))
    try:
        wait_ready(service)
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
async def api(gateway: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the gateway process."""
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def document(gateway: ServiceProcess) -> dict[str, Any]:
    """The OpenAPI document the gateway serves."""
    answer = httpx.get(gateway.base_url + "/v1/openapi.json", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def org_b(api: httpx.AsyncClient, pool: Pool) -> Org:
    """Organisation B, with a completed scan and a webhook endpoint of its own."""
    b = Org(await make_tenant(pool), f"b-only-{uuid.uuid4().hex}")
    b.ids["scan_id"], b.ids["finding_id"] = await completed_scan(api, pool, b)
    b.ids["endpoint_id"] = await webhook(api, b)
    return b


@pytest.fixture(scope="module")
async def shared_a(api: httpx.AsyncClient, pool: Pool) -> Org:
    """Organisation A with one of everything, for the cases that only read."""
    a = Org(await make_tenant(pool), f"a-only-{uuid.uuid4().hex}")
    await seed_everything(api, pool, a)
    return a


@pytest.fixture
async def org_a(pool: Pool) -> Org:
    """A fresh organisation A; tests seed what they need."""
    return Org(await make_tenant(pool), f"a-only-{uuid.uuid4().hex}")


# --- requests --------------------------------------------------------------------------


async def call(
    api: httpx.AsyncClient,
    method: str,
    url: str,
    key: str | None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request; ``key`` as a bearer token, or none at all."""
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    return await api.request(method, url, json=body, headers=sent)


def redacted(answer: httpx.Response) -> Any:
    """An error answer without its per-request id, to compare two answers."""
    error = answer.json()["error"]
    return {k: v for k, v in error.items() if k != "request_id"}


def leaked(text: str, owner: Org) -> list[str]:
    """Which of ``owner``'s ids and marker appear in ``text``."""
    return [secret for secret in owner.secrets() if secret in text]


# --- seeding A's resources through the API (SQL only where no API makes them) ---------


def zip_archive(mark: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"print('{mark}')\n")
    return buffer.getvalue()


async def uploaded_scan(api: httpx.AsyncClient, org: Org) -> str:
    """A scan created with JSON whose archive was PUT to its upload URL: ready to start."""
    created = await call(api, "POST", "/v1/scans", org.key, {"source_type": "zip",
                                                               "project": org.mark})  # fmt: skip
    assert created.status_code == 201, created.text
    upload = created.json()["upload"]
    put = await api.request(
        upload["method"], upload["url"], content=zip_archive(org.mark), headers=upload["headers"]
    )
    assert put.status_code == 200, put.text
    return str(created.json()["id"])


async def queued_scan(api: httpx.AsyncClient, org: Org) -> str:
    """A scan queued with an archive body (no worker runs: it stays queued)."""
    created = await api.post(
        f"/v1/scans?project={org.mark}",
        content=zip_archive(org.mark),
        headers={"Authorization": f"Bearer {org.key}", "Content-Type": "application/zip"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def completed_scan(api: httpx.AsyncClient, pool: Pool, org: Org) -> tuple[str, str]:
    """A queued scan taken to ``completed`` as the stages do it, with one finding; its ids."""
    scan_id = uuid.UUID(await queued_scan(api, org))
    row = await start_stage(pool, scan_id, "static")
    assert row is not None
    path, rule = f"src/{org.mark}.py", f"{org.mark}-rule"
    found = Finding(
        scanner="semgrep", rule_id=rule, title=org.mark, severity="high", file_path=path,
        start_line=3, end_line=3, snippet=org.mark, fingerprint=fingerprint("semgrep", rule,
                                                                             path, org.mark),
    )  # fmt: skip
    await insert_findings(pool, dict(row), [found])
    assert await complete_scan(pool, scan_id, await severity_counts(pool, scan_id)) is not None
    finding_id = await pool.fetchval("SELECT id FROM findings WHERE scan_id = $1", scan_id)
    return str(scan_id), str(finding_id)


async def webhook(api: httpx.AsyncClient, org: Org) -> str:
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["scan.completed"],
            "description": org.mark}  # fmt: skip
    created = await call(api, "POST", "/v1/webhooks", org.key, body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def delivery(pool: Pool, org: Org, endpoint_id: str) -> str:
    """A failed delivery on the endpoint (only the notifier makes them: no API does)."""
    delivery_id = await pool.fetchval(
        "INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload,"
        " state, attempts) VALUES ($1, $2, $3, 'scan.completed', $4, 'failed', 1) RETURNING id",
        org.tenant.org_id,
        uuid.UUID(endpoint_id),
        uuid.uuid4(),
        json.dumps({"mark": org.mark}).encode(),
    )
    return str(delivery_id)


async def extra_key(api: httpx.AsyncClient, org: Org) -> None:
    body = {"name": org.mark, "scopes": ["scans:read"]}
    created = await call(api, "POST", "/v1/keys", org.key, body)
    assert created.status_code == 201, created.text
    org.ids["key_id"], org.extra_key = created.json()["id"], created.json()["key"]


async def seed(api: httpx.AsyncClient, pool: Pool, org: Org, case: Case) -> None:
    """What ``case``'s path names, made for this case alone."""
    params = set(re.findall(r"{(\w+)}", case.path))
    if case.scan == "uploaded":
        org.ids["scan_id"] = await uploaded_scan(api, org)
    elif case.scan == "queued" and "scan_id" in params:
        org.ids["scan_id"] = await queued_scan(api, org)
    elif params & {"scan_id", "finding_id"}:
        org.ids["scan_id"], org.ids["finding_id"] = await completed_scan(api, pool, org)
    if "endpoint_id" in params:
        org.ids["endpoint_id"] = await webhook(api, org)
        org.ids["delivery_id"] = await delivery(pool, org, org.ids["endpoint_id"])
    if "key_id" in params:
        await extra_key(api, org)


async def seed_everything(api: httpx.AsyncClient, pool: Pool, org: Org) -> None:
    """One of each, and a triage and a comment so A's audit log and comments are not empty."""
    org.ids["scan_id"], org.ids["finding_id"] = await completed_scan(api, pool, org)
    org.ids["endpoint_id"] = await webhook(api, org)
    org.ids["delivery_id"] = await delivery(pool, org, org.ids["endpoint_id"])
    await extra_key(api, org)
    finding = f"/v1/findings/{org.ids['finding_id']}"
    triage = {"validity": "valid", "reason": org.mark}
    assert (await call(api, "PATCH", finding, org.key, triage)).status_code == 200
    comment = await call(api, "POST", f"{finding}/comments", org.key, {"body": org.mark})
    assert comment.status_code == 201, comment.text


async def snapshot(api: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    """What A sees of the resources it owns, to show that B's requests changed none of it."""
    views: dict[str, Any] = {}
    for name, url in (
        ("scan_id", "/v1/scans/{scan_id}?include_findings=true"),
        ("finding_id", "/v1/findings/{finding_id}/comments"),
        ("endpoint_id", "/v1/webhooks/{endpoint_id}"),
        ("delivery_id", "/v1/webhooks/{endpoint_id}/deliveries"),
    ):
        if name in org.ids:
            answer = await call(api, "GET", url.format(**org.ids), org.key)
            views[name] = (answer.status_code, answer.json())
    if org.extra_key:  # a revoked key stops working: the only view that shows it at once
        views["key_id"] = (await call(api, "GET", "/v1/me", org.extra_key)).status_code
    return views


# --- the classification ----------------------------------------------------------------


def served_operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every (METHOD, path) of the document, with its operation object."""
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in VERBS
    }


def is_public(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Whether the document lets the operation be called without credentials."""
    requirements = operation.get("security", document.get("security", []))
    return requirements == [] or {} in requirements


def classified() -> dict[tuple[str, str], str]:
    table = {(c.method, c.path): "resource" for c in RESOURCE_CASES}
    table |= dict.fromkeys(LISTINGS, "listing") | dict.fromkeys(OWN_WRITES, "own write")
    return table | dict.fromkeys(MCP_OPERATIONS, "mcp") | dict.fromkeys(PUBLIC, "public")


def test_every_served_operation_is_classified(document: dict[str, Any]) -> None:
    served, known = served_operations(document), classified()
    assert len(known) == len(RESOURCE_CASES) + len(LISTINGS) + len(OWN_WRITES) + 3
    unknown = sorted(set(served) - set(known))
    assert unknown == [], (
        f"operations the tenant matrix does not test yet, classify them: {unknown}"
    )
    gone = sorted(set(known) - set(served))
    assert gone == [], f"operations the matrix lists but the document no longer serves: {gone}"
    public = {op for op, spec in served.items() if is_public(document, spec)}
    assert public == PUBLIC, "the document's public operations changed: review the matrix"
    for (_, path), kind in known.items():  # a path that names a resource is tested as one
        assert ("{" in path) == (kind == "resource"), path


@pytest.mark.parametrize("operation", sorted(classified()), ids=_label)
async def test_no_key_is_refused(
    api: httpx.AsyncClient, operation: tuple[str, str], org_b: Org
) -> None:
    method, path = operation
    url = path.format_map(defaultdict(lambda: str(uuid.uuid4()), org_b.ids))
    for headers, code in (
        ({}, "unauthenticated"),
        ({"Authorization": "Bearer vgl_not-a-key"}, "invalid_api_key"),
        ({"X-API-Key": "vgl_not-a-key"}, "invalid_api_key"),
    ):
        answer = await api.request(method, url, json={}, headers=headers)
        assert answer.status_code == 401, f"{headers}: {answer.status_code} {answer.text}"
        assert answer.json()["error"]["code"] == code, answer.text


@pytest.mark.parametrize("route", UNDOCUMENTED_PUBLIC)
async def test_public_routes_hold_no_tenant_data(
    api: httpx.AsyncClient, pool: Pool, org_a: Org, route: str
) -> None:
    await seed_everything(api, pool, org_a)
    answer = await api.get(route)
    assert answer.status_code == 200, answer.text
    assert leaked(answer.text, org_a) == []


# --- (a) operations on one resource ------------------------------------------------------


@pytest.mark.parametrize("case", RESOURCE_CASES, ids=lambda c: f"{c.method} {c.path}")
async def test_another_organisations_resource_is_not_found(
    api: httpx.AsyncClient, pool: Pool, shared_a: Org, org_b: Org, case: Case
) -> None:
    if case.destructive:  # resources made for this case alone: A's request may destroy them
        org = Org(await make_tenant(pool), f"a-only-{uuid.uuid4().hex}")
        await seed(api, pool, org, case)
    else:
        org = shared_a
    url = case.path.format(**org.ids) + case.query
    assert (await call(api, case.method, url, None, case.body)).status_code == 401
    before = await snapshot(api, org)
    theirs = await call(api, case.method, url, org_b.key, case.body)
    assert theirs.status_code == 404, f"B got {theirs.status_code}: {theirs.text}"
    assert theirs.json()["error"]["code"] == "not_found", theirs.text
    assert org.mark not in theirs.text and str(org.tenant.org_id) not in theirs.text
    absent = {name: str(uuid.uuid4()) for name in org.ids}
    missing = await call(api, case.method, case.path.format(**absent) + case.query, org_b.key,
                         case.body)  # fmt: skip
    assert _without_ids(redacted(theirs), org, absent) == redacted(missing), "existence leaks"
    assert await snapshot(api, org) == before, "B's request changed A's resource"
    mine = await call(api, case.method, url, org.key, case.body)
    assert mine.status_code == case.ok, f"A got {mine.status_code}: {mine.text}"


def _without_ids(error: Any, owner: Org, absent: dict[str, str]) -> Any:
    """The error with A's ids swapped for the absent ones, should a message echo the path."""
    text = json.dumps(error)
    for name, value in owner.ids.items():
        text = text.replace(value, absent[name])
    return json.loads(text)


def test_destructive_operations_are_marked() -> None:
    for case in RESOURCE_CASES:
        writes = case.method != "GET"
        assert case.destructive == writes, f"{case.method} {case.path}: mark it destructive"


# --- (b) listings -------------------------------------------------------------------------


@pytest.mark.parametrize("operation", list(LISTINGS), ids=_label)
async def test_listings_hold_nothing_of_another_organisation(
    api: httpx.AsyncClient, pool: Pool, org_a: Org, org_b: Org, operation: tuple[str, str]
) -> None:
    method, path = operation
    await seed_everything(api, pool, org_a)
    org_a.ids["org_id"] = str(org_a.tenant.org_id)
    mine = await call(api, method, path, org_a.key)
    assert mine.status_code == 200, mine.text
    shown = [name for name in LISTINGS[operation] if org_a.ids[name] in mine.text]
    assert shown == list(LISTINGS[operation]), f"A's own {path} misses its {LISTINGS[operation]}"
    theirs = await call(api, method, path, org_b.key)
    assert theirs.status_code == 200, theirs.text
    assert leaked(theirs.text, org_a) == [], f"B's {path} shows A's data"


# --- (w) writes into one's own organisation ----------------------------------------------


@pytest.mark.parametrize("operation", list(OWN_WRITES), ids=_label)
async def test_writes_stay_in_the_callers_organisation(
    api: httpx.AsyncClient, pool: Pool, org_a: Org, org_b: Org, operation: tuple[str, str]
) -> None:
    method, path = operation
    await seed_everything(api, pool, org_a)
    views = ("/v1/scans", "/v1/keys", "/v1/webhooks", "/v1/organisation", "/v1/audit-log")
    before = [await call(api, "GET", view, org_a.key) for view in views]
    theirs = await call(api, method, path, org_b.key, OWN_WRITES[operation])
    assert theirs.status_code in {200, 201}, theirs.text
    assert leaked(theirs.text, org_a) == []
    after = [await call(api, "GET", view, org_a.key) for view in views]
    for view, old, new in zip(views, before, after, strict=True):
        assert _stable(old.json()) == _stable(new.json()), f"B's {method} {path} changed A's {view}"


def _stable(value: Any) -> Any:
    """A listing without the fields that change by being read (a key's last use)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k != "last_used_at"}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


# --- query parameters naming another organisation's things ------------------------------


async def test_a_diff_base_of_another_organisation_is_not_found(
    api: httpx.AsyncClient, pool: Pool, org_a: Org, org_b: Org
) -> None:
    await seed_everything(api, pool, org_a)
    diff = f"/v1/scans/{org_b.ids['scan_id']}/diff?base="
    theirs = await call(api, "GET", diff + org_a.ids["scan_id"], org_b.key)
    assert theirs.status_code == 404, theirs.text
    missing = await call(api, "GET", diff + str(uuid.uuid4()), org_b.key)
    assert redacted(theirs) == redacted(missing)
    assert leaked(theirs.text, org_a) == []


async def test_redelivering_another_organisations_delivery_through_ones_own_endpoint(
    api: httpx.AsyncClient, pool: Pool, org_a: Org, org_b: Org
) -> None:
    await seed_everything(api, pool, org_a)
    url = f"/v1/webhooks/{org_b.ids['endpoint_id']}/deliveries/{org_a.ids['delivery_id']}"
    theirs = await call(api, "POST", url + "/redeliver", org_b.key)
    assert theirs.status_code == 404, theirs.text
    state = await pool.fetchval(
        "SELECT state FROM webhook_deliveries WHERE id = $1", uuid.UUID(org_a.ids["delivery_id"])
    )
    assert state == "failed", "B's redeliver reset A's delivery"


@pytest.mark.parametrize(
    "query",
    ["/v1/findings?scan_id={scan_id}", "/v1/findings?project={mark}",
     "/v1/scans?project={mark}", "/v1/findings?rule_id={mark}-rule"],
)  # fmt: skip
async def test_filters_naming_another_organisations_things_find_nothing(
    api: httpx.AsyncClient, pool: Pool, org_a: Org, org_b: Org, query: str
) -> None:
    await seed_everything(api, pool, org_a)
    url = query.format(mark=org_a.mark, **org_a.ids)
    mine = await call(api, "GET", url, org_a.key)
    assert mine.status_code == 200 and mine.json()["items"], mine.text  # the filter matches
    theirs = await call(api, "GET", url, org_b.key)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["items"] == []
    assert leaked(theirs.text, org_a) == []


async def test_an_idempotency_key_replays_only_in_its_own_organisation(
    api: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    headers = {"Idempotency-Key": f"shared-{uuid.uuid4().hex}"}
    body = {"source_type": "zip", "project": "same-name"}
    first = await call(api, "POST", "/v1/scans", org_a.key, body, headers)
    assert first.status_code == 201, first.text
    replay = await call(api, "POST", "/v1/scans", org_a.key, body, headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"  # the key does replay for A
    theirs = await call(api, "POST", "/v1/scans", org_b.key, body, headers)
    assert theirs.status_code == 201, theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]


# --- (m) MCP --------------------------------------------------------------------------------


def mcp_headers(org: Org, session: str) -> dict[str, str]:
    """The headers of a request in ``session``, sent with ``org``'s key."""
    return {
        "Authorization": f"Bearer {org.key}",
        "Mcp-Session-Id": session,
        "Mcp-Protocol-Version": MCP_VERSION,
        "Accept": "application/json, text/event-stream",
    }


def tool_text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


async def test_mcp_sessions_belong_to_their_organisation(
    api: httpx.AsyncClient, gateway: ServiceProcess, pool: Pool, org_a: Org, org_b: Org
) -> None:
    await seed_everything(api, pool, org_a)
    url = gateway.base_url + "/v1/mcp"
    call_get_scan = {
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "get_scan", "arguments": {"scan_id": org_a.ids["scan_id"]}},
    }  # fmt: skip
    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {org_a.key}"}, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write, session_id),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        a_session = session_id()
        assert a_session
        stolen = await api.post("/v1/mcp", json=call_get_scan,
                                headers=mcp_headers(org_b, a_session))  # fmt: skip
        assert stolen.status_code == 404, stolen.text
        ended = await api.delete("/v1/mcp", headers=mcp_headers(org_b, a_session))
        assert ended.status_code == 404, ended.text
        own = await session.call_tool("get_scan", {"scan_id": org_a.ids["scan_id"]})
        assert not own.isError and org_a.mark in tool_text(own)  # A's session lives on


MCP_TOOL_CALLS: Final = (
    ("get_scan", {"scan_id": "{scan_id}", "include_findings": True}),
    ("get_finding", {"finding_id": "{finding_id}"}),
    ("list_findings", {"scan_id": "{scan_id}"}),
    ("triage_finding", {"finding_id": "{finding_id}", "validity": "invalid", "reason": "b"}),
    ("get_report", {"scan_id": "{scan_id}", "format": "json"}),
)


def _arguments(template: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    return {k: v.format(**ids) if isinstance(v, str) else v for k, v in template.items()}


async def test_mcp_tools_and_resources_show_nothing_of_another_organisation(
    api: httpx.AsyncClient, gateway: ServiceProcess, pool: Pool, org_a: Org, org_b: Org
) -> None:
    await seed_everything(api, pool, org_a)
    async with (
        httpx.AsyncClient(headers={"Authorization": f"Bearer {org_b.key}"}, timeout=30) as http,
        streamable_http_client(gateway.base_url + "/v1/mcp", http_client=http) as (r, w, _),
        ClientSession(r, w) as session,
    ):
        await session.initialize()
        for name, template in MCP_TOOL_CALLS:
            result = await session.call_tool(name, _arguments(template, org_a.ids))
            assert result.isError, f"{name}: {tool_text(result)}"
            assert result.structuredContent is not None
            assert result.structuredContent["error"]["code"] == "not_found", name
            assert org_a.mark not in tool_text(result), f"{name} shows A's data"
        listed = await session.call_tool("list_findings", {"project": org_a.mark})
        assert not listed.isError and listed.structuredContent is not None
        assert listed.structuredContent["items"] == []
        assert leaked(tool_text(listed), org_a) == []
        for uri in ("vigil://scans/{scan_id}", "vigil://findings/{finding_id}"):
            with pytest.raises(McpError):
                await session.read_resource(AnyUrl(uri.format(**org_a.ids)))
    verdict = await call(api, "GET", f"/v1/findings/{org_a.ids['finding_id']}", org_a.key)
    assert verdict.json()["validity"] == "valid", "B's triage_finding changed A's finding"
