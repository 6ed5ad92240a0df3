"""The delivery loop: claims due deliveries from PostgreSQL and sends several at once.

It runs beside the JetStream consumer in every notifier replica. Rows are claimed with
``FOR UPDATE SKIP LOCKED`` and leased (see :mod:`vigil_notifier.repository`), so replicas
share the work, and a notifier killed mid-send leaves rows that come due again when their
lease ends: delivery is at least once, and receivers de-duplicate on ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Final

import aiohttp
import asyncpg
from prometheus_client import Counter, Histogram

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.logs import scan_context
from vigil_common.netguard import guarded_session
from vigil_common.sealing import SealingError, unseal
from vigil_common.worker import StageContext
from vigil_notifier import repository, sender
from vigil_notifier.policy import Outcome, Verdict, next_delay, parse_schedule, verdict
from vigil_notifier.signing import signed_headers

log = logging.getLogger(__name__)

SEALED_FOR: Final = "webhook-secret"
# A claimed row is due again after the request's timeout plus this margin, should we die.
LEASE_MARGIN_SECONDS: Final = 30.0

ATTEMPTS: Final = Counter(
    "vigil_webhook_attempts_total",
    "Webhook delivery attempts by verdict (delivered, retry, failed, gone).",
    ["verdict"],
)
ATTEMPT_SECONDS: Final = Histogram(
    "vigil_webhook_attempt_seconds", "Time a receiver took to answer one delivery attempt."
)


class DeliveryLoop:
    """Send due deliveries, at most ``VIGIL_WEBHOOK_CONCURRENCY`` at a time, until cancelled."""

    def __init__(self, pool: Pool, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.pool = pool
        self.settings = settings
        self.session = session
        self.schedule = parse_schedule(settings.webhook_retry_schedule)
        self.in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Poll for due deliveries until cancelled, then finish the sends in hand."""
        try:
            while True:
                if not await self._claim_round():
                    await asyncio.sleep(self.settings.webhook_poll_seconds)
        finally:
            await self._finish_in_flight()

    async def _finish_in_flight(self) -> None:
        # Like the consumer on SIGTERM: let sends in hand record their outcome (they are
        # bounded by the request timeout); any cut short come due again when their lease ends.
        if self.in_flight:
            await asyncio.wait(self.in_flight, timeout=self.settings.webhook_timeout_seconds)
        for task in self.in_flight:
            task.cancel()
        await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def _claim_round(self) -> bool:
        """Fill the free slots with due rows; ``False`` when there was nothing to do."""
        free = self.settings.webhook_concurrency - len(self.in_flight)
        if free <= 0:
            await asyncio.wait(self.in_flight, return_when=asyncio.FIRST_COMPLETED)
            return True
        lease = self.settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS
        try:
            rows = await repository.claim_due(self.pool, free, lease)
        except Exception:  # a consume loop: a lost database must not end deliveries for good
            log.exception("could not claim webhook deliveries; retrying")
            return False
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
        return bool(rows)

    async def _deliver(self, delivery: asyncpg.Record) -> None:
        try:
            with scan_context(delivery["scan_id"]):
                await deliver(self.pool, self.settings, self.session, self.schedule, delivery)
        except Exception:  # the row stays leased and comes due again: nothing is lost
            log.exception("webhook delivery interrupted")


async def deliver(
    pool: Pool,
    settings: Settings,
    session: aiohttp.ClientSession,
    schedule: tuple[float, ...],
    delivery: asyncpg.Record,
) -> None:
    """Make one attempt of a claimed delivery and record its outcome."""
    target = await repository.fetch_target(pool, delivery)
    if target is None or not target["enabled"]:
        await _abandon(pool, delivery, "the endpoint is disabled or deleted")
        return
    try:
        secrets = [unseal(s, settings.sealing_key, SEALED_FOR) for s in target["secrets"]]
    except SealingError:
        await _abandon(pool, delivery, "the signing secret cannot be unsealed by this server")
        return
    body: bytes = delivery["payload"]
    headers = signed_headers(secrets, str(delivery["event_id"]), int(time.time()), body)
    outcome = await sender.post(
        session, target["url"], body, headers, settings.allow_private_networks
    )
    await record(pool, settings, schedule, delivery, outcome)


async def record(
    pool: Pool,
    settings: Settings,
    schedule: tuple[float, ...],
    delivery: asyncpg.Record,
    outcome: Outcome,
) -> None:
    """Settle the delivery after an attempt and update its endpoint's health."""
    kind = verdict(outcome)
    ATTEMPTS.labels(kind).inc()
    ATTEMPT_SECONDS.observe(outcome.latency_ms / 1000)
    delay = next_delay(schedule, delivery["attempts"], outcome.retry_after)
    state = _state(kind, delay)
    next_in = delay if state == "pending" else None
    try:
        await repository.settle(
            pool, delivery["id"], state, next_in, outcome.status, outcome.latency_ms, outcome.error
        )
    except asyncpg.ForeignKeyViolationError:
        log.info("webhook endpoint deleted during the attempt", extra=_ids(delivery))
        return
    _log_attempt(delivery, outcome, state)
    endpoint_id = delivery["endpoint_id"]
    if endpoint_id is not None:
        await _update_endpoint(pool, settings, endpoint_id, kind)


def _state(kind: Verdict, delay: float | None) -> str:
    if kind == "delivered":
        return "delivered"
    return "pending" if kind == "retry" and delay is not None else "failed"


async def _update_endpoint(
    pool: Pool, settings: Settings, endpoint_id: uuid.UUID, kind: Verdict
) -> None:
    if kind == "delivered":
        await repository.mark_endpoint_healthy(pool, endpoint_id)
    elif kind == "gone":
        await repository.disable_endpoint(pool, endpoint_id, "the endpoint answered 410 Gone")
        log.warning("webhook endpoint disabled: it answered 410 Gone")
    else:
        days = settings.webhook_disable_after_seconds / 86400
        reason = f"every delivery failed for {days:g} days"
        limit = settings.webhook_disable_after_seconds
        if await repository.note_endpoint_failure(pool, endpoint_id, limit, reason):
            log.warning("webhook endpoint disabled: %s", reason)


async def _abandon(pool: Pool, delivery: asyncpg.Record, reason: str) -> None:
    await repository.settle(pool, delivery["id"], "failed", None, None, 0, reason)
    log.info("webhook delivery abandoned: %s", reason, extra=_ids(delivery))


def _log_attempt(delivery: asyncpg.Record, outcome: Outcome, state: str) -> None:
    extra = {
        **_ids(delivery),
        "attempt": delivery["attempts"],
        "status": outcome.status,
        "duration_ms": outcome.latency_ms,
        "error": outcome.error,
    }
    log.info("webhook attempt: %s", state, extra=extra)


def _ids(delivery: asyncpg.Record) -> dict[str, str | None]:
    endpoint = delivery["endpoint_id"]
    return {
        "delivery_id": str(delivery["id"]),
        "endpoint_id": str(endpoint) if endpoint else None,
        "event_type": delivery["event_type"],
    }


async def deliver_forever(ctx: StageContext) -> None:
    """The notifier's background task: the delivery loop with its own guarded HTTP session."""
    settings = ctx.settings
    async with guarded_session(
        settings.allow_private_networks, settings.webhook_timeout_seconds
    ) as session:
        await DeliveryLoop(ctx.pool, settings, session).run()
