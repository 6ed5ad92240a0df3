"""Webhook deliveries per second to a local receiver, and the signing cost of one delivery.

Runs the notifier's own delivery loop (claiming rows in PostgreSQL, signing, sending through
the SSRF-guarded session, recording each attempt) against a receiver in another process.
Writes bench/results/notifier.json and .md.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import timeit
import uuid
from pathlib import Path

import msgspec

from vigil_common.config import load_settings
from vigil_common.db import Pool, connect_pool
from vigil_common.netguard import guarded_session
from vigil_common.schemas import ScanCompleted
from vigil_common.sealing import generate_key, seal
from vigil_devstack import make_temp_home, start_stack
from vigil_devstack.ports import free_port
from vigil_devstack.services import python_env, run_migrations
from vigil_notifier.handlers import enqueue_deliveries
from vigil_notifier.scheduler import DeliveryLoop
from vigil_notifier.signing import signed_headers

HERE = Path(__file__).resolve().parent
DELIVERIES = 2000
SECRET = "whsec_" + "QmVuY2htYXJrU2VjcmV0Tm90QVJlYWxPbmUwMDAwMDA="


async def prepare(pool: Pool, settings: object, url: str) -> None:
    org = await pool.fetchval("INSERT INTO organisations (name) VALUES ('bench') RETURNING id")
    project = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, 'bench') RETURNING id", org
    )
    sealed = seal(SECRET, settings.sealing_key, "webhook-secret")  # type: ignore[attr-defined]
    await pool.execute(
        "INSERT INTO webhook_endpoints (org_id, url, event_types, secret_sealed)"
        " VALUES ($1, $2, ARRAY['scan.completed'], $3)",
        org, url, sealed,
    )  # fmt: skip
    for _ in range(DELIVERIES):
        scan_id = uuid.uuid4()
        await pool.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, status, finished_at,"
            " finding_counts) VALUES ($1, $2, $3, 'upload', 'completed', now(), '{\"high\": 1}')",
            scan_id, org, project,
        )  # fmt: skip
        await enqueue_deliveries(pool, settings, ScanCompleted(scan_id=scan_id, org_id=org))  # type: ignore[arg-type]


async def deliver_all(pool: Pool, settings: object) -> float:
    async with guarded_session(True, 10) as session:
        loop = DeliveryLoop(pool, settings, session)  # type: ignore[arg-type]
        started = time.perf_counter()
        task = asyncio.create_task(loop.run())
        while await pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"
        ):
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return seconds


def signing_microseconds() -> float:
    body = msgspec.json.encode({"id": str(uuid.uuid4()), "data": {"findings": ["x" * 80] * 100}})
    runs = 2000
    seconds = timeit.timeit(lambda: signed_headers([SECRET], "evt", 1700000000, body), number=runs)
    return round(seconds / runs * 1e6, 1)


async def measure(env: dict[str, str], url: str) -> dict[str, object]:
    settings = load_settings(env)
    pool = await connect_pool(settings)
    try:
        await prepare(pool, settings, url)
        seconds = await deliver_all(pool, settings)
        delivered = await pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'"
        )
    finally:
        await pool.close()
    return {
        "date": time.strftime("%Y-%m-%d"), "deliveries": delivered,
        "seconds": round(seconds, 2), "per_second": round(delivered / seconds, 1),
        "concurrency": settings.webhook_concurrency,
        "signing_us_per_delivery": signing_microseconds(),
    }  # fmt: skip


def main() -> None:
    home = make_temp_home("vigil-bench-notifier-")
    port = free_port()
    receiver = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), str(port)])
    try:
        with start_stack(home, throwaway=True, skip=("nats", "s3")) as stack:
            env = python_env({
                **stack.env, "VIGIL_SEALING_KEY": generate_key(),
                "VIGIL_ALLOW_PRIVATE_NETWORKS": "true", "VIGIL_LOG_LEVEL": "WARNING",
            })  # fmt: skip
            run_migrations(env)
            results = asyncio.run(measure(env, f"http://127.0.0.1:{port}/hook"))
    finally:
        receiver.terminate()
        receiver.wait()
    write(results)


def write(results: dict[str, object]) -> None:
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "notifier.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "notifier.md").write_text(
        f"# Webhook deliveries ({results['date']})\n\n"
        f"{results['deliveries']} signed deliveries to a local receiver in "
        f"{results['seconds']} s: **{results['per_second']} deliveries/s** "
        f"({results['concurrency']} in flight). Signing one delivery (both schemes, a "
        f"~9 KB body): **{results['signing_us_per_delivery']} µs**.\n"
    )
    print((out / "notifier.md").read_text())


if __name__ == "__main__":
    main()
