"""What each answer does: 410 disables the endpoint, 400 stops, 429 waits for Retry-After,
days of failures disable the endpoint, and a rotated secret signs beside the new one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.schemas import ScanCompleted
from vigil_common.sealing import seal
from vigil_notifier import repository
from vigil_notifier.handlers import enqueue_deliveries
from vigil_notifier.policy import Outcome, parse_schedule
from vigil_notifier.scheduler import record


async def queue(pool: Pool, settings: Settings, tenant: Any, make_scan: Any) -> None:
    scan_id = await make_scan(tenant.org_id)
    await enqueue_deliveries(pool, settings, ScanCompleted(scan_id=scan_id, org_id=tenant.org_id))


async def finished(pool: Pool, endpoint_id: uuid.UUID) -> Any:
    """The endpoint's delivery once settled, and the endpoint."""
    async with asyncio.timeout(15):
        while True:
            delivery = await pool.fetchrow(
                "SELECT d.*, array(SELECT status FROM webhook_attempts a WHERE"
                " a.delivery_id = d.id ORDER BY a.id) AS statuses FROM webhook_deliveries d"
                " WHERE endpoint_id = $1 AND state <> 'pending'",
                endpoint_id,
            )
            if delivery is not None:
                endpoint = await pool.fetchrow(
                    "SELECT * FROM webhook_endpoints WHERE id = $1", endpoint_id
                )
                return delivery, endpoint
            await asyncio.sleep(0.05)


async def test_410_disables_the_endpoint(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    receiver.then = 410
    endpoint_id, _ = await make_endpoint(tenant.org_id, receiver.url)
    await queue(pool, fast_settings, tenant, make_scan)
    async with running_loop(fast_settings):
        delivery, endpoint = await finished(pool, endpoint_id)
    assert (delivery["state"], delivery["statuses"]) == ("failed", [410])
    assert endpoint["enabled"] is False
    assert endpoint["disabled_reason"] == "the endpoint answered 410 Gone"
    await queue(pool, fast_settings, tenant, make_scan)  # a disabled endpoint gets nothing new
    count = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id
    )
    assert count == 1


async def test_400_stops_retrying_and_keeps_the_endpoint(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    receiver.then = 400
    endpoint_id, _ = await make_endpoint(tenant.org_id, receiver.url)
    await queue(pool, fast_settings, tenant, make_scan)
    async with running_loop(fast_settings):
        delivery, endpoint = await finished(pool, endpoint_id)
        await asyncio.sleep(0.5)  # time for retries that must not happen
    assert (delivery["state"], delivery["statuses"]) == ("failed", [400])
    assert delivery["last_error"] == "HTTP 400 Bad Request"
    assert len(receiver.received) == 1
    assert endpoint["enabled"] is True


async def test_429_waits_for_retry_after(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    receiver.script, receiver.retry_after = [429], "1"
    endpoint_id, receiver.secret = await make_endpoint(tenant.org_id, receiver.url)
    # The schedule alone would retry after 0.2 s, and may wait up to 5 s for a Retry-After.
    patient = msgspec.structs.replace(fast_settings, webhook_retry_schedule="0,0.2,5")
    await queue(pool, patient, tenant, make_scan)
    async with running_loop(patient):
        delivery, _ = await finished(pool, endpoint_id)
    assert (delivery["state"], delivery["statuses"]) == ("delivered", [429, 200])
    first, second = (at for at, _, _ in receiver.received)
    assert 1.0 <= second - first < 3.0


async def test_an_endpoint_failing_for_days_is_disabled(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    receiver.then = 503
    endpoint_id, _ = await make_endpoint(tenant.org_id, receiver.url)
    await pool.execute(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days' WHERE id = $1",
        endpoint_id,
    )
    await queue(pool, fast_settings, tenant, make_scan)
    async with running_loop(fast_settings):
        delivery, endpoint = await finished(pool, endpoint_id)
    assert endpoint["enabled"] is False
    assert endpoint["disabled_reason"] == "every delivery failed for 5 days"
    # Its remaining attempts are abandoned without contacting the receiver again.
    assert delivery["state"] == "failed"
    assert delivery["statuses"][-1] is None
    assert delivery["last_error"] == "the endpoint is disabled or deleted"
    assert len(receiver.received) == 1


async def test_a_success_ends_the_failure_run(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    receiver.script = [500]
    endpoint_id, _ = await make_endpoint(tenant.org_id, receiver.url)
    await queue(pool, fast_settings, tenant, make_scan)
    async with running_loop(fast_settings):
        delivery, endpoint = await finished(pool, endpoint_id)
    assert delivery["statuses"] == [500, 200]
    assert endpoint["failing_since"] is None


async def test_during_a_rotation_both_secrets_sign(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    endpoint_id, old = await make_endpoint(tenant.org_id, receiver.url)
    new = "whsec_" + "B" * 44
    await pool.execute(
        "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, secret_sealed = $2,"
        " previous_secret_expires_at = now() + interval '1 hour' WHERE id = $1",
        endpoint_id,
        seal(new, fast_settings.sealing_key, "webhook-secret"),
    )
    receiver.secret = old  # a receiver that has not switched yet still verifies
    await queue(pool, fast_settings, tenant, make_scan)
    async with running_loop(fast_settings):
        delivery, _ = await finished(pool, endpoint_id)
    assert delivery["state"] == "delivered"
    [(_, headers, _)] = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert len(headers["X-Vigil-Signature"].split(" ")) == 2


async def test_an_expired_previous_secret_no_longer_signs(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    endpoint_id, receiver.secret = await make_endpoint(tenant.org_id, receiver.url)
    await pool.execute(
        "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed,"
        " previous_secret_expires_at = now() - interval '1 second' WHERE id = $1",
        endpoint_id,
    )
    await queue(pool, fast_settings, tenant, make_scan)
    async with running_loop(fast_settings):
        await finished(pool, endpoint_id)
    [(_, headers, _)] = receiver.received
    assert " " not in headers["webhook-signature"]


async def test_the_ssrf_guard_runs_again_at_delivery(
    pool: Pool, fast_settings: Settings, tenant: Any, make_scan: Any, make_endpoint: Any,
    running_loop: Any,
) -> None:  # fmt: skip
    strict = msgspec.structs.replace(
        fast_settings, allow_private_networks=False, webhook_retry_schedule="0"
    )
    # Written straight to the table, as if it had passed the check when it was created.
    endpoint_id, _ = await make_endpoint(tenant.org_id, "https://127.0.0.1:9/hook")
    await queue(pool, strict, tenant, make_scan)
    async with running_loop(strict):
        delivery, _ = await finished(pool, endpoint_id)
    assert delivery["state"] == "failed"
    assert delivery["last_error"].startswith("refused: 127.0.0.1 resolves to a loopback")


async def test_an_endpoint_deleted_during_an_attempt_is_no_error(
    pool: Pool, fast_settings: Settings, tenant: Any, make_scan: Any, make_endpoint: Any,
    pending_cleanup: None,
) -> None:  # fmt: skip
    endpoint_id, _ = await make_endpoint(tenant.org_id, "http://127.0.0.1:9/hook")
    await queue(pool, fast_settings, tenant, make_scan)
    [delivery] = await repository.claim_due(pool, 1, 60)
    assert delivery["endpoint_id"] == endpoint_id
    await pool.execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint_id)
    outcome = Outcome(status=200, latency_ms=5)
    await record(pool, fast_settings, parse_schedule("0"), delivery, outcome)
    assert (
        await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE id = $1", delivery["id"])
        == 0
    )
