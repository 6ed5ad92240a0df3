"""Triage: verdicts with reasons, carried over to later scans; comments; audit; scan diffs."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.findings import fingerprint, insert_findings
from vigil_common.schemas import Finding, FindingTriaged
from vigil_common.subjects import FINDING_TRIAGED, STREAM

Client = TestClient[Any, Any]


def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


def finding(rule: str) -> Finding:
    return Finding(
        scanner="semgrep", rule_id=rule, title=rule, severity="high", file_path="app.py",
        start_line=1, end_line=1, snippet=rule,
        fingerprint=fingerprint("semgrep", rule, "app.py", rule),
    )  # fmt: skip


async def scan_with(pool: Pool, tenant: Tenant, project: str, rules: list[str]) -> uuid.UUID:
    """A completed scan of ``project`` whose findings are written the way stages write them."""
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name)"
        " DO UPDATE SET name = EXCLUDED.name RETURNING id",
        tenant.org_id,
        project,
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status)"
        " VALUES ($1, $2, $3, 'upload', 'completed')",
        scan_id,
        tenant.org_id,
        project_id,
    )
    scan = {"id": scan_id, "org_id": tenant.org_id, "project_id": project_id}
    await insert_findings(pool, scan, [finding(rule) for rule in rules])
    return scan_id


async def finding_of(pool: Pool, scan_id: uuid.UUID, rule: str) -> str:
    return str(
        await pool.fetchval(
            "SELECT id FROM findings WHERE scan_id = $1 AND rule_id = $2", scan_id, rule
        )
    )


async def test_a_verdict_is_kept_audited_and_inherited_by_later_scans(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    first = await scan_with(pool, tenant, "shop", ["sqli", "xss"])
    sqli = await finding_of(pool, first, "sqli")
    verdict = {"validity": "invalid", "reason": "the value is an integer id checked upstream"}
    response = await client.patch(f"/v1/findings/{sqli}", json=verdict, headers=auth(tenant))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["validity"], body["validity_reason"]) == ("invalid", verdict["reason"])

    second = await scan_with(pool, tenant, "shop", ["sqli", "xss"])
    again = await client.get(
        f"/v1/findings/{await finding_of(pool, second, 'sqli')}", headers=auth(tenant)
    )
    inherited = await again.json()
    assert (inherited["validity"], inherited["validity_reason"]) == ("invalid", verdict["reason"])
    assert inherited["first_seen_scan_id"] == str(first)
    xss = await client.get(
        f"/v1/findings/{await finding_of(pool, second, 'xss')}", headers=auth(tenant)
    )
    assert (await xss.json())["validity"] == "unreviewed"
    log = await (await client.get("/v1/audit-log", headers=auth(tenant))).json()
    triaged = next(e for e in log["items"] if e["action"] == "finding.triaged")
    assert triaged["details"] == {
        "from": "unreviewed",
        "to": "invalid",
        "reason": verdict["reason"],
    }


async def test_an_accepted_risk_resurfaces_after_its_date(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan = await scan_with(pool, tenant, "risk", ["weak-hash"])
    target = await finding_of(pool, scan, "weak-hash")
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).isoformat()
    verdict = {"validity": "acknowledged", "reason": "legacy checksum, not security", "until": soon}
    assert (
        await client.patch(f"/v1/findings/{target}", json=verdict, headers=auth(tenant))
    ).status == 200
    await asyncio.sleep(2.5)
    shown = await (await client.get(f"/v1/findings/{target}", headers=auth(tenant))).json()
    assert shown["validity"] == "unreviewed"
    later = await scan_with(pool, tenant, "risk", ["weak-hash"])
    fresh = await client.get(
        f"/v1/findings/{await finding_of(pool, later, 'weak-hash')}", headers=auth(tenant)
    )
    assert (await fresh.json())["validity"] == "unreviewed"


@pytest.mark.parametrize(
    ("verdict", "field"),
    [
        ({"validity": "invalid"}, "reason"),
        ({"validity": "acknowledged"}, "reason"),
        ({"validity": "valid", "until": "2999-01-01T00:00:00Z"}, "until"),
        ({"validity": "acknowledged", "reason": "r", "until": "2001-01-01T00:00:00Z"}, "until"),
        ({"validity": "maybe"}, "validity"),
    ],
)
async def test_bad_verdicts_name_the_field(
    client: Client, tenant: Tenant, pool: Pool, verdict: dict[str, str], field: str
) -> None:
    scan = await scan_with(pool, tenant, "bad", ["r1"])
    response = await client.patch(
        f"/v1/findings/{await finding_of(pool, scan, 'r1')}", json=verdict, headers=auth(tenant)
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"]["field"] == field


async def test_comments_are_listed_in_order_and_guarded(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    scan = await scan_with(pool, tenant, "talk", ["r1"])
    target = await finding_of(pool, scan, "r1")
    for text in ("first look", "confirmed with the team"):
        created = await client.post(
            f"/v1/findings/{target}/comments", json={"body": text}, headers=auth(tenant)
        )
        assert created.status == 201
    listing = await (
        await client.get(f"/v1/findings/{target}/comments", headers=auth(tenant))
    ).json()
    assert [c["body"] for c in listing["items"]] == ["first look", "confirmed with the team"]
    other = await make_tenant(pool)
    assert (await client.get(f"/v1/findings/{target}/comments", headers=auth(other))).status == 404
    reader = await make_tenant(pool, scopes=("scans:read",))
    denied = await client.patch(
        f"/v1/findings/{target}", json={"validity": "valid"}, headers=auth(reader)
    )
    assert denied.status == 403


async def test_the_diff_shows_new_fixed_and_unchanged_findings(
    client: Client, tenant: Tenant, pool: Pool
) -> None:
    before = await scan_with(pool, tenant, "diffed", ["a", "b"])
    after = await scan_with(pool, tenant, "diffed", ["b", "c"])
    diff = await (await client.get(f"/v1/scans/{after}/diff", headers=auth(tenant))).json()
    assert diff["base_scan_id"] == str(before)
    assert [f["rule_id"] for f in diff["new"]] == ["c"]
    assert [f["rule_id"] for f in diff["fixed"]] == ["a"]
    assert [f["rule_id"] for f in diff["unchanged"]] == ["b"]
    assert diff["unchanged"][0]["first_seen_scan_id"] == str(before)
    explicit = await client.get(f"/v1/scans/{before}/diff?base={after}", headers=auth(tenant))
    assert [f["rule_id"] for f in (await explicit.json())["new"]] == ["a"]
    missing = await client.get(f"/v1/scans/{after}/diff?base={uuid.uuid4()}", headers=auth(tenant))
    assert missing.status == 404


async def test_each_verdict_is_announced_for_webhook_subscribers(
    client: Client, tenant: Tenant, pool: Pool, nats_js: tuple[NATS, JetStreamContext]
) -> None:
    _, js = nats_js
    scan = await scan_with(pool, tenant, "announced", ["r1", "r2"])
    for rule, validity in (("r1", "valid"), ("r2", "valid"), ("r1", "invalid")):
        verdict = {"validity": validity, "reason": "checked"}
        target = await finding_of(pool, scan, rule)
        assert (
            await client.patch(f"/v1/findings/{target}", json=verdict, headers=auth(tenant))
        ).status == 200
    sub = await js.pull_subscribe(FINDING_TRIAGED, durable="triage-test", stream=STREAM)
    messages = await sub.fetch(3, timeout=5)
    events = [msgspec.json.decode(m.data, type=FindingTriaged) for m in messages]
    await sub.unsubscribe()
    assert [(e.validity, str(e.scan_id)) for e in events] == [
        ("valid", str(scan)), ("valid", str(scan)), ("invalid", str(scan)),
    ]  # fmt: skip
    assert len({e.triage_id for e in events}) == 3  # not de-duplicated as one per scan
