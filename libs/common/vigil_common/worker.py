"""Run one pipeline stage as a process: settings, connections, health port, signals, the loop.

A service's ``app.py`` calls :func:`run_stage` with its consumer, event type and a factory that
builds its handler from a :class:`StageContext`. On SIGTERM or SIGINT the stage stops fetching,
finishes the messages in hand, unsubscribes and drains.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common import bus, scans
from vigil_common.config import Settings, SettingsError, load_settings
from vigil_common.db import Pool, connect_pool
from vigil_common.health import ReadinessCheck, serve_health
from vigil_common.logs import setup_logging
from vigil_common.schemas import Event, ScanFailed
from vigil_common.storage import ObjectStore
from vigil_common.subjects import SCAN_FAILED, ConsumerSpec

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class StageContext:
    """What a stage's handler may use: settings, database, object store and publishing."""

    settings: Settings
    pool: Pool
    store: ObjectStore
    js: JetStreamContext

    async def publish(self, subject: str, event: Event) -> None:
        """Publish the next event of the pipeline (de-duplicated per scan and subject)."""
        await bus.publish(self.js, subject, event)

    async def fail(self, scan_id: uuid.UUID, reason: str) -> None:
        """End the scan as failed with ``reason`` and announce it to the notifier."""
        row = await scans.fail_scan(self.pool, scan_id, reason)
        row = row or await scans.fetch_scan(self.pool, scan_id)
        # Announce again when it had already failed: a crash may have lost the first publish,
        # and JetStream drops the duplicate if it did not.
        if row is not None and row["status"] == "failed":
            failed = ScanFailed(
                scan_id=scan_id, org_id=row["org_id"], reason=row["error"], stage=row["stage"]
            )
            await self.publish(SCAN_FAILED, failed)


HandlerFactory = Callable[[StageContext], bus.Handler[E]]
# Work a stage runs beside its consumer (e.g. a delivery loop); cancelled on shutdown.
Background = Callable[[StageContext], Coroutine[Any, Any, None]]


def run_stage(
    service: str,
    spec: ConsumerSpec,
    event_type: Any,
    make_handler: HandlerFactory[E],
    *,
    default_concurrency: int = 1,
    background: Background | None = None,
) -> None:
    """Start the stage and block until it is told to stop (the service's ``main``)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"vigil-{service}: {exc}")
    setup_logging(service, settings.log_level, settings.log_format)
    asyncio.run(
        _serve(service, spec, event_type, make_handler, settings, default_concurrency, background)
    )


async def _serve(
    service: str,
    spec: ConsumerSpec,
    event_type: Any,
    make_handler: HandlerFactory[E],
    settings: Settings,
    default_concurrency: int,
    background: Background | None = None,
) -> None:
    pool = await connect_pool(settings)
    store = ObjectStore(settings)
    nc, js = await bus.connect(settings, service)
    await bus.ensure_stream(js)
    await bus.ensure_consumer(js, spec, settings)
    ctx = StageContext(settings, pool, store, js)
    consumer = bus.Consumer(
        js,
        spec,
        event_type,
        make_handler(ctx),
        ctx.fail,
        settings,
        settings.concurrency or default_concurrency,
    )
    advisories = await bus.watch_exhausted(nc, js, spec, ctx.fail)
    runner, port = await serve_health(
        settings.health_host, settings.health_port, _readiness_checks(pool, nc, store)
    )
    _stop_on_signals(consumer)
    log.info("%s ready", service, extra={"health_port": port, "consumer": spec.durable})
    side = asyncio.create_task(background(ctx)) if background is not None else None
    try:
        await consumer.run()
    finally:
        if side is not None:
            side.cancel()
            await asyncio.gather(side, return_exceptions=True)
        await advisories.unsubscribe()
        await nc.drain()
        await pool.close()
        await runner.cleanup()
        log.info("%s stopped", service)


def _stop_on_signals(consumer: bus.Consumer) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, consumer.stop)


def _readiness_checks(pool: Pool, nc: NATS, store: ObjectStore) -> dict[str, ReadinessCheck]:
    async def database() -> None:
        await pool.fetchval("SELECT 1")

    async def nats_connection() -> None:
        if not nc.is_connected:
            raise ConnectionError("NATS is not connected")

    return {"database": database, "nats": nats_connection, "object_store": store.check}
