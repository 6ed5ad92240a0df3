"""Retries survive the notifier: the deliveries table, not the process, holds the schedule.

One test stops and recreates the delivery loop in this process; the other runs the real
notifier (``python -m vigil_notifier``), kills it with SIGKILL mid-schedule and starts another.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import msgspec
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common import bus
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.schemas import ScanCompleted
from vigil_common.subjects import SCAN_COMPLETED
from vigil_notifier.handlers import enqueue_deliveries


async def delivered(pool: Pool, endpoint_id: uuid.UUID, timeout: float = 30.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            row = await pool.fetchrow(
                "SELECT d.*, array(SELECT status FROM webhook_attempts a WHERE"
                " a.delivery_id = d.id ORDER BY a.id) AS statuses FROM webhook_deliveries d"
                " WHERE endpoint_id = $1 AND state = 'delivered'",
                endpoint_id,
            )
            if row is not None:
                return row
            await asyncio.sleep(0.1)


async def first_attempt_recorded(pool: Pool, endpoint_id: uuid.UUID) -> None:
    """Until the first attempt's outcome is written (stopping earlier leaves the row leased)."""
    async with asyncio.timeout(30):
        while not await pool.fetchval(
            "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d"
            " ON d.id = a.delivery_id WHERE d.endpoint_id = $1",
            endpoint_id,
        ):
            await asyncio.sleep(0.05)


async def test_a_stopped_loop_leaves_the_retry_to_the_next_one(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    receiver.script = [503]
    endpoint_id, receiver.secret = await make_endpoint(tenant.org_id, receiver.url)
    scan_id = await make_scan(tenant.org_id)
    await enqueue_deliveries(
        pool, fast_settings, ScanCompleted(scan_id=scan_id, org_id=tenant.org_id)
    )
    slow = msgspec.structs.replace(fast_settings, webhook_retry_schedule="0,1")
    async with running_loop(slow):
        await first_attempt_recorded(pool, endpoint_id)
    row = await pool.fetchrow(
        "SELECT state, attempts FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id
    )
    assert (row["state"], row["attempts"]) == ("pending", 1)
    async with running_loop(slow):
        row = await delivered(pool, endpoint_id)
    assert row["statuses"] == [503, 200]
    assert len(receiver.processed) == 1


async def start_notifier(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vigil_notifier", env={**os.environ, **env}, stdout=out,
            stderr=out,
        )  # fmt: skip


async def test_a_killed_notifier_process_delivers_after_restart(
    pool: Pool, test_env: dict[str, str], tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, nats_js: tuple[NATS, JetStreamContext], tmp_path: Path,
    pending_cleanup: None,
) -> None:  # fmt: skip
    receiver.script = [503]
    endpoint_id, receiver.secret = await make_endpoint(tenant.org_id, receiver.url)
    scan_id = await make_scan(tenant.org_id)
    env = {
        **test_env,
        "VIGIL_WEBHOOK_RETRY_SCHEDULE": "0,3",
        "VIGIL_WEBHOOK_POLL_SECONDS": "0.1",
    }
    log = tmp_path / "notifier.log"
    first = await start_notifier(env, log)
    try:
        event = ScanCompleted(scan_id=scan_id, org_id=tenant.org_id, findings=2)
        await bus.publish(nats_js[1], SCAN_COMPLETED, event)
        await first_attempt_recorded(pool, endpoint_id)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    second = await start_notifier(env, log)
    try:
        row = await delivered(pool, endpoint_id)
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    assert row["statuses"] == [503, 200], log.read_text()
    assert len(receiver.processed) == 1
    assert f'"scan_id": "{scan_id}"' in log.read_text()
    assert '"msg": "scan completed"' in log.read_text()


async def test_two_replicas_never_send_the_same_delivery_twice(
    pool: Pool, fast_settings: Settings, tenant: Any, receiver: Any, make_scan: Any,
    make_endpoint: Any, running_loop: Any,
) -> None:  # fmt: skip
    endpoints = [(await make_endpoint(tenant.org_id, receiver.url))[0] for _ in range(12)]
    scan_id = await make_scan(tenant.org_id)
    event = ScanCompleted(scan_id=scan_id, org_id=tenant.org_id)
    assert await enqueue_deliveries(pool, fast_settings, event) == 12
    narrow = msgspec.structs.replace(fast_settings, webhook_concurrency=2)
    async with running_loop(narrow), running_loop(narrow):
        for endpoint_id in endpoints:
            await delivered(pool, endpoint_id)
    assert len(receiver.received) == 12
