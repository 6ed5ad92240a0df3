"""finding.triaged reaches the endpoints that subscribe to it, and nothing else."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.schemas import FindingTriaged
from vigil_notifier.handlers import enqueue_triage


async def test_a_triage_decision_is_delivered_to_subscribers_only(
    pool: Pool, fast_settings: Settings, tenant: Any, make_scan: Any, make_endpoint: Any,
    pending_cleanup: None,
) -> None:  # fmt: skip
    listening, _ = await make_endpoint(tenant.org_id, "http://127.0.0.1:9/t", ("finding.triaged",))
    await make_endpoint(tenant.org_id, "http://127.0.0.1:9/s", ("scan.completed",))
    scan_id = await make_scan(
        tenant.org_id, callback=("http://127.0.0.1:9/cb", "whsec_" + "Q" * 44),
        settings=fast_settings,
    )  # fmt: skip
    finding_id = uuid.uuid4()
    event = FindingTriaged(
        scan_id=scan_id, org_id=tenant.org_id, triage_id=uuid.uuid4(), finding_id=finding_id,
        validity="invalid", reason="test fixture, not production code",
    )  # fmt: skip
    assert await enqueue_triage(pool, event) == 1
    assert await enqueue_triage(pool, event) == 0  # a redelivered message adds nothing
    rows = await pool.fetch(
        "SELECT endpoint_id, event_type, payload FROM webhook_deliveries WHERE scan_id = $1",
        scan_id,
    )
    (row,) = rows
    assert (row["endpoint_id"], row["event_type"]) == (listening, "finding.triaged")
    payload = msgspec.json.decode(row["payload"])
    assert payload["type"] == "finding.triaged"
    assert payload["data"] == {
        "finding_id": str(finding_id), "scan_id": str(scan_id), "status": "invalid",
        "note": "test fixture, not production code",
    }  # fmt: skip
