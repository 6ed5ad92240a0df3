"""Restoring a finding the validator filtered: ``PATCH /v1/findings/{id}`` with status reported."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.findings import fingerprint, insert_findings
from vigil_common.schemas import Finding, Severity

Client = TestClient[Any, Any]


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


def finding(rule: str, severity: Severity) -> Finding:
    return Finding(
        scanner="semgrep", rule_id=rule, title=rule, severity=severity, confidence="high",
        file_path="app.py", start_line=1, end_line=1, snippet=rule,
        fingerprint=fingerprint("semgrep", rule, "app.py", rule),
    )  # fmt: skip


async def validated_scan(pool: Pool, tenant: Tenant, status: str = "completed") -> uuid.UUID:
    """A scan whose validator kept a high finding and filtered a critical one."""
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        tenant.org_id,
        f"p-{uuid.uuid4().hex[:8]}",
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status, score, grade,"
        " launch_readiness, finding_counts) VALUES ($1, $2, $3, 'upload', $4, 85, 'B', 85,"
        ' \'{"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}\')',
        scan_id, tenant.org_id, project_id, status,
    )  # fmt: skip
    scan = {"id": scan_id, "org_id": tenant.org_id, "project_id": project_id}
    await insert_findings(pool, scan, [finding("xss", "high"), finding("sqli", "critical")])
    await pool.execute(
        "UPDATE findings SET status = 'filtered', filter_reason = 'in test code, which is not"
        " part of the deployed application' WHERE scan_id = $1 AND rule_id = 'sqli'",
        scan_id,
    )
    return scan_id


async def finding_id(pool: Pool, scan_id: uuid.UUID, rule: str) -> uuid.UUID:
    value: uuid.UUID = await pool.fetchval(
        "SELECT id FROM findings WHERE scan_id = $1 AND rule_id = $2", scan_id, rule
    )
    return value


async def test_a_filtered_finding_is_restored_audited_and_the_scan_rescored(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await validated_scan(pool, tenant)
    sqli = await finding_id(pool, scan_id, "sqli")
    body = {"status": "reported", "reason": "this file ships: it is the admin console"}
    response = await client.patch(f"/v1/findings/{sqli}", json=body, headers=auth(tenant))
    assert response.status == 200, await response.text()
    shown = await response.json()
    assert (shown["status"], shown["filter_reason"], shown["validity"]) == (
        "reported",
        None,
        "unreviewed",
    )

    restored = shown["provenance"]["restored"]
    assert restored["reason"] == body["reason"]
    assert restored["filter_reason"] == (
        "in test code, which is not part of the deployed application"
    )
    # The critical now counts: 100 - 40 - 15 = 45 (F), and a critical blocks the launch.
    scan = await client.get(f"/v1/scans/{scan_id}", headers=auth(tenant))
    view = await scan.json()
    assert (view["score"], view["grade"], view["launch_readiness"]) == (45, "F", 45)
    assert view["finding_counts"]["critical"] == 1
    assert [(b["kind"], b["finding_ids"]) for b in view["launch_blockers"]] == [
        ("critical", [str(sqli)])
    ]
    assert view["summary"].startswith("Not ready to launch: 1 blocking issue (1 critical finding).")

    log = await client.get("/v1/audit-log", headers=auth(tenant))
    entry = next(e for e in (await log.json())["items"] if e["target_id"] == str(sqli))
    assert entry["action"] == "finding.restored"
    assert entry["details"]["filter_reason"] == restored["filter_reason"]


async def test_restore_with_validity_confirms_the_finding_too(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await validated_scan(pool, tenant)
    sqli = await finding_id(pool, scan_id, "sqli")
    body = {"status": "reported", "validity": "valid", "reason": "reachable from /login"}
    response = await client.patch(f"/v1/findings/{sqli}", json=body, headers=auth(tenant))
    assert response.status == 200, await response.text()
    shown = await response.json()
    assert (shown["status"], shown["validity"]) == ("reported", "valid")


async def test_restore_needs_a_reason_a_filtered_finding_and_a_finished_scan(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await validated_scan(pool, tenant)
    sqli, xss = await finding_id(pool, scan_id, "sqli"), await finding_id(pool, scan_id, "xss")
    no_reason = await client.patch(
        f"/v1/findings/{sqli}", json={"status": "reported"}, headers=auth(tenant)
    )
    assert no_reason.status == 422
    assert (await no_reason.json())["error"]["details"] == {"field": "reason"}

    body = {"status": "reported", "reason": "x"}
    reported = await client.patch(f"/v1/findings/{xss}", json=body, headers=auth(tenant))
    assert (reported.status, (await reported.json())["error"]["code"]) == (409, "not_filtered")

    wrong = await client.patch(
        f"/v1/findings/{sqli}", json={"status": "filtered", "reason": "x"}, headers=auth(tenant)
    )
    assert wrong.status == 422
    empty = await client.patch(f"/v1/findings/{sqli}", json={}, headers=auth(tenant))
    assert empty.status == 422

    running = await validated_scan(pool, tenant, status="running")
    early = await client.patch(
        f"/v1/findings/{await finding_id(pool, running, 'sqli')}", json=body, headers=auth(tenant)
    )
    assert (early.status, (await early.json())["error"]["code"]) == (409, "scan_not_finished")
    # Nothing changed on refusal.
    assert await pool.fetchval("SELECT status FROM findings WHERE id = $1", sqli) == "filtered"
    assert await pool.fetchval("SELECT score FROM scans WHERE id = $1", scan_id) == 85


async def test_restore_needs_the_findings_write_scope(client: Client, pool: Pool) -> None:
    reader = await make_tenant(pool, ("scans:read",))
    scan_id = await validated_scan(pool, reader)
    sqli = await finding_id(pool, scan_id, "sqli")
    body = {"status": "reported", "reason": "x"}
    response = await client.patch(f"/v1/findings/{sqli}", json=body, headers=auth(reader))
    assert response.status == 403
