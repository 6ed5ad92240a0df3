"""Scan creation by JSON (presigned upload, git), start, cancel, listing and findings."""

from __future__ import annotations

import asyncio
import io
import urllib.request
import uuid
import zipfile
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from conftest import Tenant, make_tenant
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.findings import fingerprint
from vigil_common.schemas import ScanRequested
from vigil_common.sealing import unseal
from vigil_common.subjects import SCAN_REQUESTED, STREAM
from vigil_gateway.keys import SCOPES, create_key
from vigil_gateway.scan_cache import SCAN_ANSWERS

Client = TestClient[Any, Any]


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


async def last_request(js: JetStreamContext) -> ScanRequested:
    stored = await js.get_last_msg(STREAM, SCAN_REQUESTED)
    return msgspec.json.decode(stored.data or b"", type=ScanRequested)


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "print('hi')\n")
    return buffer.getvalue()


async def test_presigned_upload_then_start_queues_the_scan(
    client: Client, tenant: Tenant, nats_js: tuple[NATS, JetStreamContext]
) -> None:
    created = await client.post(
        "/v1/scans", json={"source_type": "zip", "project": "web"}, headers=auth(tenant)
    )
    assert created.status == 201, await created.text()
    scan = await created.json()
    assert scan["status"] == "created"
    upload = scan["upload"]
    assert upload["method"] == "PUT"
    assert upload["headers"] == {"Content-Type": "application/zip"}
    early = await client.post(f"/v1/scans/{scan['id']}/start", headers=auth(tenant))
    assert early.status == 409
    assert (await early.json())["error"]["code"] == "upload_missing"

    put = urllib.request.Request(
        upload["url"], data=a_zip(), method="PUT", headers=upload["headers"]
    )
    await asyncio.to_thread(urllib.request.urlopen, put, timeout=10)
    started = await client.post(f"/v1/scans/{scan['id']}/start", headers=auth(tenant))
    assert started.status == 200, await started.text()
    assert (await started.json())["status"] == "queued"
    event = await last_request(nats_js[1])
    assert (str(event.scan_id), event.upload_key) == (scan["id"], f"uploads/{scan['id']}.zip")
    again = await client.post(f"/v1/scans/{scan['id']}/start", headers=auth(tenant))
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "already_started"


async def test_a_git_scan_is_queued_with_its_token_sealed(
    client: Client, tenant: Tenant, settings: Settings, pool: Pool,
    nats_js: tuple[NATS, JetStreamContext],
) -> None:  # fmt: skip
    body = {
        "source_type": "git",
        "repo_url": "git@github.com:acme/shop.git",
        "ref": "v1.2.0",
        "git_token": "ghp_fake_token_for_tests",
    }
    response = await client.post("/v1/scans", json=body, headers=auth(tenant))
    assert response.status == 201, await response.text()
    scan = await response.json()
    assert scan["status"] == "queued"
    assert scan["source"] == {
        "type": "git", "format": None, "repo_url": "https://github.com/acme/shop.git",
        "ref": "v1.2.0", "commit": None, "language_hint": None,
    }  # fmt: skip
    event = await last_request(nats_js[1])
    assert event.git_token_sealed is not None
    assert "ghp_fake" not in event.git_token_sealed
    assert unseal(event.git_token_sealed, settings.sealing_key, "git-token") == body["git_token"]
    row = await pool.fetchrow("SELECT * FROM scans WHERE id = $1", uuid.UUID(scan["id"]))
    assert row is not None
    assert "ghp_fake" not in str(dict(row))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source_type": "git"}, "repo_url"),
        ({"source_type": "git", "repo_url": "https://169.254.169.254/x.git"}, "repo_url"),
        ({"source_type": "git", "repo_url": "file:///etc/passwd"}, "repo_url"),
        ({"source_type": "git", "repo_url": "https://h.example/r.git", "ref": "a b"}, "ref"),
        ({"source_type": "zip", "repo_url": "https://h.example/r.git"}, "repo_url"),
        ({"source_type": "svn"}, "source_type"),
        ({"source_type": "zip", "colour": "blue"}, "colour"),
        ({"source_type": "zip", "project": "../x"}, "project"),
    ],
)
async def test_bad_json_bodies_get_422_naming_the_field(
    client: Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/scans", json=body, headers=auth(tenant))
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]["field"] == field


async def test_cancel_ends_a_scan_once(client: Client, tenant: Tenant, pool: Pool) -> None:
    scan = await (
        await client.post("/v1/scans", json={"source_type": "zip"}, headers=auth(tenant))
    ).json()
    cancelled = await client.post(f"/v1/scans/{scan['id']}/cancel", headers=auth(tenant))
    assert cancelled.status == 200
    body = await cancelled.json()
    assert body["status"] == "cancelled"
    assert body["history"][-1]["name"] == "cancelled"
    again = await client.post(f"/v1/scans/{scan['id']}/cancel", headers=auth(tenant))
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "already_finished"
    other = await make_tenant(pool)
    theirs = await client.post(f"/v1/scans/{scan['id']}/cancel", headers=auth(other))
    assert theirs.status == 404  # another organisation's scan: it does not exist for them


async def insert_scans(pool: Pool, tenant: Tenant, count: int, project: str) -> list[str]:
    ids = []
    for _ in range(count):
        scan_id = uuid.uuid4()
        project_id = await pool.fetchval(
            "INSERT INTO projects (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name)"
            " DO UPDATE SET name = EXCLUDED.name RETURNING id",
            tenant.org_id,
            project,
        )
        await pool.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, status)"
            " VALUES ($1, $2, $3, 'upload', 'queued')",
            scan_id,
            tenant.org_id,
            project_id,
        )
        ids.append(str(scan_id))
    return ids


async def test_pagination_skips_and_repeats_nothing_under_concurrent_inserts(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    original = await insert_scans(pool, tenant, 25, "paged")
    seen: list[str] = []
    cursor = None
    while True:
        query = "/v1/scans?project=paged&limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = await (await client.get(query, headers=auth(tenant))).json()
        seen += [item["id"] for item in page["items"]]
        await insert_scans(pool, tenant, 2, "paged")  # newer rows arrive while paging
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(original) <= set(seen)


async def test_listing_filters_by_status_and_rejects_unknown_values(
    client: Client, tenant: Tenant
) -> None:
    await client.post("/v1/scans", json={"source_type": "zip"}, headers=auth(tenant))
    created = await (await client.get("/v1/scans?status=created", headers=auth(tenant))).json()
    assert created["items"]
    assert {item["status"] for item in created["items"]} == {"created"}
    bad = await client.get("/v1/scans?status=sleeping", headers=auth(tenant))
    assert bad.status == 422
    bad_cursor = await client.get("/v1/scans?cursor=not-ours", headers=auth(tenant))
    assert (await bad_cursor.json())["error"]["details"]["field"] == "cursor"


async def test_findings_are_listed_filtered_and_scoped(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    (scan_id,) = await insert_scans(pool, tenant, 1, "found")
    scan = await pool.fetchrow("SELECT * FROM scans WHERE id = $1", uuid.UUID(scan_id))
    assert scan is not None
    for severity, cwe, line in (("high", "CWE-89", 3), ("low", "CWE-330", 9)):
        await pool.execute(
            "INSERT INTO findings (scan_id, org_id, project_id, fingerprint, scanner, rule_id,"
            " cwe, severity, confidence, title, file_path, start_line, end_line)"
            " VALUES ($1, $2, $3, $4, 'semgrep', 'r', $5, $6, 'high', 't', 'src/a.py', $7, $7)",
            scan["id"], scan["org_id"], scan["project_id"],
            fingerprint("semgrep", "r", "src/a.py", str(line)), [cwe], severity, line,
        )  # fmt: skip
    mine = await client.get(f"/v1/scans/{scan_id}/findings?severity=high", headers=auth(tenant))
    items = (await mine.json())["items"]
    assert [(f["severity"], f["cwe"]) for f in items] == [("high", ["CWE-89"])]
    by_cwe = await client.get("/v1/findings?cwe=CWE-330&project=found", headers=auth(tenant))
    (low,) = (await by_cwe.json())["items"]
    single = await client.get(f"/v1/findings/{low['id']}", headers=auth(tenant))
    assert (await single.json())["start_line"] == 9
    other = await make_tenant(pool)
    assert (await client.get(f"/v1/findings/{low['id']}", headers=auth(other))).status == 404
    theirs = await client.get(f"/v1/scans/{scan_id}/findings", headers=auth(other))
    assert theirs.status == 404
    everything = await (await client.get("/v1/findings", headers=auth(other))).json()
    assert everything["items"] == []


ENDPOINTS = [
    ("GET", "/v1/scans/{scan}", "scans:read"),
    ("GET", "/v1/scans/{scan}/findings", "scans:read"),
    ("POST", "/v1/scans/{scan}/start", "scans:write"),
    ("POST", "/v1/scans/{scan}/cancel", "scans:manage"),
    ("GET", "/v1/findings/{finding}", "scans:read"),
]


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
async def test_every_endpoint_guards_its_resource(
    client: Client, tenant: Tenant, pool: Pool, method: str, path: str, scope: str
) -> None:
    (scan_id,) = await insert_scans(pool, tenant, 1, "guarded")
    finding_id = await pool.fetchval(
        "INSERT INTO findings (scan_id, org_id, project_id, fingerprint, scanner, rule_id,"
        " severity, confidence, title, file_path, start_line, end_line)"
        " SELECT id, org_id, project_id, 'fp', 's', 'r', 'low', 'low', 't', 'f', 1, 1"
        " FROM scans WHERE id = $1 RETURNING id",
        uuid.UUID(scan_id),
    )
    url = path.format(scan=scan_id, finding=finding_id)
    other = await make_tenant(pool)
    lacking = await create_key(
        pool, tenant.org_id, "limited", tuple(s for s in SCOPES if s != scope)
    )
    assert (await client.request(method, url)).status == 401
    assert (await client.request(method, url, headers=auth(other))).status == 404
    denied = await client.request(method, url, headers={"X-API-Key": lacking or ""})
    assert denied.status == 403
    assert (await denied.json())["error"]["details"] == {"scope": scope}
    other_key = await pool.fetchval("SELECT id FROM api_keys WHERE org_id = $1", other.org_id)
    revoked = await client.delete(f"/v1/keys/{other_key}", headers=auth(other))
    assert revoked.status == 204
    assert (await client.request(method, url, headers=auth(other))).status == 401


async def test_a_scan_callback_is_checked_and_its_secret_sealed(
    client: Client, tenant: Tenant, settings: Settings, pool: Pool
) -> None:
    body = {
        "source_type": "zip",
        "callback_url": "http://127.0.0.1:9/hook",
        "callback_secret": "fake-callback-secret-0001",
    }
    created = await client.post("/v1/scans", json=body, headers=auth(tenant))
    assert created.status == 201, await created.text()
    row = await pool.fetchrow(
        "SELECT callback_url, callback_secret_sealed FROM scans WHERE id = $1",
        uuid.UUID((await created.json())["id"]),
    )
    assert row is not None
    assert row["callback_url"] == body["callback_url"]
    assert "fake-callback" not in row["callback_secret_sealed"]
    sealed = row["callback_secret_sealed"]
    assert unseal(sealed, settings.sealing_key, "webhook-secret") == body["callback_secret"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"callback_url": "https://169.254.169.254/latest"}, "callback_url"),
        ({"callback_url": "ftp://127.0.0.1/x"}, "callback_url"),
        ({"callback_secret": "orphan-secret-000001"}, "callback_secret"),
        ({"callback_url": "http://127.0.0.1:9/", "callback_secret": "short"}, "callback_secret"),
    ],
)
async def test_bad_callbacks_are_refused(
    client: Client, tenant: Tenant, extra: dict[str, str], field: str
) -> None:
    response = await client.post(
        "/v1/scans", json={"source_type": "zip", **extra}, headers=auth(tenant)
    )
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"]["field"] == field


async def test_the_language_hint_is_kept_and_checked(client: Client, tenant: Tenant) -> None:
    body = {"source_type": "zip", "language": "python"}
    created = await (await client.post("/v1/scans", json=body, headers=auth(tenant))).json()
    assert created["source"]["language_hint"] == "python"
    bad = await client.post(
        "/v1/scans", json={"source_type": "zip", "language": "a b;"}, headers=auth(tenant)
    )
    assert (await bad.json())["error"]["details"]["field"] == "language"


async def test_nul_characters_get_a_422_not_a_server_error(client: Client, tenant: Tenant) -> None:
    in_query = await client.get("/v1/scans?project=a%00b", headers=auth(tenant))
    assert in_query.status == 422
    assert (await in_query.json())["error"]["details"]["field"] == "project"
    in_body = await client.post(
        "/v1/scans", data=b'{"source_type": "zip", "project": "a\\u0000b"}',
        headers={**auth(tenant), "Content-Type": "application/json"},
    )  # fmt: skip
    assert in_body.status == 422


async def version(pool: Pool, scan_id: str) -> str:
    return str(await pool.fetchval("SELECT xmin::text FROM scans WHERE id = $1", scan_id))


async def test_a_repeated_read_is_served_until_the_row_changes_then_read_anew(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    (scan_id,) = await insert_scans(pool, tenant, 1, "cached")
    await pool.execute(
        "UPDATE scans SET status = 'running', stage = 'static' WHERE id = $1", scan_id
    )
    url = f"/v1/scans/{scan_id}"
    first = await (await client.get(url, headers=auth(tenant))).read()
    assert await (await client.get(url, headers=auth(tenant))).read() == first
    answers = client.server.app[SCAN_ANSWERS]
    assert answers.get(uuid.UUID(scan_id), tenant.org_id, await version(pool, scan_id)) == first
    # Any change to the row, by any process, shows on the next read: no invalidation needed.
    await pool.execute(
        "UPDATE scans SET status = 'completed', score = 93, grade = 'A' WHERE id = $1", scan_id
    )
    await pool.execute(
        "INSERT INTO scan_events (scan_id, name, status) VALUES ($1, 'completed', 'completed')",
        scan_id,
    )
    after = await (await client.get(url, headers=auth(tenant))).json()
    assert (after["status"], after["score"], after["grade"]) == ("completed", 93, "A")
    assert [step["name"] for step in after["history"]] == ["completed"]
    same = await (await client.get(url, headers=auth(tenant))).json()
    assert same == after
    other = await make_tenant(pool)
    assert (await client.get(url, headers=auth(other))).status == 404  # never another org's


async def test_a_queued_scans_position_moves_with_the_scans_ahead(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    first, second = await insert_scans(pool, tenant, 2, "queue")
    url = f"/v1/scans/{second}"
    before = (await (await client.get(url, headers=auth(tenant))).json())["queue_position"]
    await pool.execute("UPDATE scans SET status = 'cancelled' WHERE id = $1", first)
    after = (await (await client.get(url, headers=auth(tenant))).json())["queue_position"]
    assert (before, after) == (2, 1)
