"""The notifier's handler for ``scan.completed`` and ``scan.failed``.

Webhook delivery is not wired in yet: every terminal event is logged, one line per scan.
"""

from __future__ import annotations

import logging

from vigil_common.bus import Handler
from vigil_common.schemas import ScanCompleted, ScanFinished
from vigil_common.worker import StageContext

log = logging.getLogger(__name__)


def make_handler(_ctx: StageContext) -> Handler[ScanFinished]:
    """Build the handler bound to this process's connections."""

    async def handle(event: ScanFinished) -> None:
        if isinstance(event, ScanCompleted):
            log.info(
                "scan completed",
                extra={"findings": event.findings, "severity_counts": event.severity_counts},
            )
        else:
            log.info("scan failed", extra={"reason": event.reason, "stage": event.stage})

    return handle
