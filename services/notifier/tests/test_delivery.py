"""Deliveries end to end: the handler queues them, the loop signs and sends them to a real
receiver on 127.0.0.1, retries on the documented schedule, and survives being stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec
from prometheus_client import REGISTRY

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.schemas import ScanCompleted, ScanFailed
from vigil_notifier.handlers import enqueue_deliveries

PAYLOAD_KEYS = {"id", "type", "timestamp", "data"}
DATA_KEYS = {
    "scan_id", "status", "project", "repo_url", "commit", "score", "grade", "severity_counts",
    "error", "findings", "findings_truncated", "link",
}  # fmt: skip
FINDING_KEYS = {"id", "rule_id", "severity", "title", "file_path", "start_line"}


def delivered_count() -> float:
    sample = REGISTRY.get_sample_value("vigil_webhook_attempts_total", {"verdict": "delivered"})
    return sample or 0.0


def completed(scan_id: uuid.UUID, tenant: Any) -> ScanCompleted:
    return ScanCompleted(scan_id=scan_id, org_id=tenant.org_id, findings=2)


async def settle(pool: Pool, endpoint_id: uuid.UUID, timeout: float = 15.0) -> Any:
    """The endpoint's single delivery once it is no longer pending."""
    async with asyncio.timeout(timeout):
        while True:
            row = await pool.fetchrow(
                "SELECT * FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id
            )
            if row is not None and row["state"] != "pending":
                return row
            await asyncio.sleep(0.05)


async def test_a_completed_scan_is_delivered_signed_in_the_documented_shape(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any, delivery_rows: Any,
) -> None:  # fmt: skip
    endpoint_id, receiver.secret = await make_endpoint(tenant.org_id, receiver.url)
    scan_id = await make_scan(tenant.org_id)
    assert await enqueue_deliveries(pool, fast_settings, completed(scan_id, tenant)) == 1
    before = delivered_count()
    async with running_loop(fast_settings):
        assert (await settle(pool, endpoint_id))["state"] == "delivered"
    [(_, headers, _body)] = receiver.received
    [payload] = receiver.processed.values()  # 200 only after both signatures verified
    assert headers["webhook-id"] == payload["id"]
    assert headers["Content-Type"] == "application/json"
    assert set(payload) == PAYLOAD_KEYS
    assert payload["type"] == "scan.completed"
    dt.datetime.fromisoformat(payload["timestamp"])
    data = payload["data"]
    assert set(data) == DATA_KEYS
    assert data["scan_id"] == str(scan_id)
    assert (data["status"], data["project"], data["commit"]) == ("completed", "demo", "abc123")
    assert (data["score"], data["grade"], data["error"]) == (None, None, None)
    assert data["severity_counts"] == {"high": 2}
    assert data["link"] == f"/v1/scans/{scan_id}"
    assert data["findings_truncated"] is False
    assert [f["start_line"] for f in data["findings"]] == [1, 2]
    assert all(set(f) == FINDING_KEYS for f in data["findings"])
    [row] = await delivery_rows(endpoint_id)
    assert row["statuses"] == [200]
    assert delivered_count() == before + 1
    assert msgspec.json.decode(row["payload"]) == payload


async def test_the_handler_is_idempotent_and_respects_subscriptions(
    pool: Pool, fast_settings: Settings, tenant: Any, make_scan: Any, make_endpoint: Any,
    pending_cleanup: None,
) -> None:  # fmt: skip
    await make_endpoint(tenant.org_id, "http://127.0.0.1:9/a", ("scan.completed",))
    await make_endpoint(tenant.org_id, "http://127.0.0.1:9/b", ("scan.failed",))
    scan_id = await make_scan(tenant.org_id)
    event = completed(scan_id, tenant)
    assert await enqueue_deliveries(pool, fast_settings, event) == 1
    assert await enqueue_deliveries(pool, fast_settings, event) == 0  # a redelivered message


async def test_findings_are_capped_with_a_truncation_flag(
    pool: Pool, fast_settings: Settings, tenant: Any, make_scan: Any, make_endpoint: Any,
    pending_cleanup: None,
) -> None:  # fmt: skip
    endpoint_id, _ = await make_endpoint(tenant.org_id, "http://127.0.0.1:9/a")
    scan_id = await make_scan(tenant.org_id, findings=5)
    capped = msgspec.structs.replace(fast_settings, webhook_max_findings=3)
    await enqueue_deliveries(pool, capped, completed(scan_id, tenant))
    body = await pool.fetchval(
        "SELECT payload FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id
    )
    data = msgspec.json.decode(body)["data"]
    assert len(data["findings"]) == 3
    assert data["findings_truncated"] is True


async def test_a_failed_scan_reaches_its_callback_with_the_reason(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    running_loop: Any,
) -> None:  # fmt: skip
    receiver.secret = "whsec_" + "Q" * 44
    scan_id = await make_scan(
        tenant.org_id, status="failed", findings=0, callback=(receiver.url, receiver.secret),
        settings=fast_settings,
    )  # fmt: skip
    event = ScanFailed(scan_id=scan_id, org_id=tenant.org_id, reason="archive refused: bad")
    assert await enqueue_deliveries(pool, fast_settings, event) == 1
    async with running_loop(fast_settings):
        await receiver.wait_for(1)
        await asyncio.sleep(0.1)
    [payload] = receiver.processed.values()
    assert payload["type"] == "scan.failed"
    assert payload["data"]["error"] == "archive refused: bad"
    assert payload["data"]["findings"] == []


async def test_a_receiver_down_then_up_gets_the_event_once_with_the_same_id(
    pool: Pool, fast_settings: Settings, tenant: Any, make_scan: Any, make_endpoint: Any,
    running_loop: Any, start_receiver: Any, unused_tcp_port: int, delivery_rows: Any,
    new_receiver: Any,
) -> None:  # fmt: skip
    hook = new_receiver(script=[503, 503], url=f"http://127.0.0.1:{unused_tcp_port}/hook")
    endpoint_id, hook.secret = await make_endpoint(tenant.org_id, hook.url)
    await enqueue_deliveries(pool, fast_settings, completed(await make_scan(tenant.org_id), tenant))
    patient = msgspec.structs.replace(fast_settings, webhook_retry_schedule="0" + ",0.2" * 7)
    async with running_loop(patient):
        await asyncio.sleep(0.3)  # connection refused, at least once
        await start_receiver(hook, unused_tcp_port)
        assert (await settle(pool, endpoint_id))["state"] == "delivered"
    [row] = await delivery_rows(endpoint_id)
    assert row["statuses"][0] is None
    assert row["statuses"][-3:] == [503, 503, 200]
    assert len({headers["webhook-id"] for _, headers, _ in hook.received}) == 1
    assert len(hook.processed) == 1
