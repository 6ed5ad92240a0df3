"""The notifier's handler for ``scan.completed``, ``scan.failed`` and ``finding.triaged``.

It logs a scan's outcome (one line per scan), builds the webhook payload from PostgreSQL and
creates one pending delivery per destination, then returns: sending is the delivery loop's
job (:mod:`vigil_notifier.scheduler`), so a slow receiver never holds a JetStream message.
A finished scan also frees a slot: the organisation's next waiting scans are admitted.
"""

from __future__ import annotations

import logging

import msgspec

from vigil_common import admission
from vigil_common.bus import Handler
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.schemas import FindingTriaged, NotifierEvent, ScanCompleted, ScanFinished
from vigil_common.worker import StageContext
from vigil_notifier import repository
from vigil_notifier.payloads import EventType, scan_event, triage_event

log = logging.getLogger(__name__)


def make_handler(ctx: StageContext) -> Handler[NotifierEvent]:
    """Build the handler bound to this process's connections."""

    async def handle(event: NotifierEvent) -> None:
        if isinstance(event, FindingTriaged):
            await enqueue_triage(ctx.pool, event)
            return
        if isinstance(event, ScanCompleted):
            log.info(
                "scan completed",
                extra={"findings": event.findings, "severity_counts": event.severity_counts},
            )
        else:
            log.info("scan failed", extra={"reason": event.reason, "stage": event.stage})
        await enqueue_deliveries(ctx.pool, ctx.settings, event)
        # The scan's slot is free: the organisation's next waiting scan may start.
        cap = ctx.settings.max_running_scans_per_org
        await admission.admit(ctx.pool, ctx.js, event.org_id, cap)

    return handle


async def enqueue_deliveries(pool: Pool, settings: Settings, event: ScanFinished) -> int:
    """Create the deliveries announcing ``event``; returns how many were new."""
    event_type: EventType = "scan.completed" if isinstance(event, ScanCompleted) else "scan.failed"
    scan = await repository.fetch_scan(pool, event.scan_id)
    if scan is None:
        log.warning("scan to announce not found; nothing to deliver")
        return 0
    limit = settings.webhook_max_findings
    findings = await repository.fetch_findings(pool, event.scan_id, limit + 1)
    payload = scan_event(event_type, scan, findings, limit, settings.public_url)
    body = msgspec.json.encode(payload)
    created = await repository.create_deliveries(pool, scan, payload.id, event_type, body)
    log.info("webhook deliveries queued", extra={"deliveries": created, "event_type": event_type})
    return created


async def enqueue_triage(pool: Pool, event: FindingTriaged) -> int:
    """Deliver a triage decision to the endpoints subscribed to ``finding.triaged``.

    A scan's own callback is for its completion, so it does not receive these.
    """
    scan = await repository.fetch_scan(pool, event.scan_id)
    if scan is None:
        return 0  # deleted since: nothing to announce
    payload = triage_event(event)
    return await repository.create_deliveries(
        pool, scan, payload.id, "finding.triaged", msgspec.json.encode(payload),
        include_callback=False,
    )  # fmt: skip
