"""The validator's handler for ``scan.hunted``: finalise the scan and announce it.

Findings are already unique per scan (one row per fingerprint). False-positive filters come
with the validation work; until then every candidate is reported, and the history says so.
"""

from __future__ import annotations

from typing import Final

from vigil_common import findings, scans
from vigil_common.bus import Handler
from vigil_common.schemas import ScanCompleted, ScanHunted
from vigil_common.subjects import SCAN_COMPLETED
from vigil_common.worker import StageContext

NO_FILTERS_NOTE: Final = "no false-positive filters are configured; every candidate is reported"


def make_handler(ctx: StageContext) -> Handler[ScanHunted]:
    """Build the handler bound to this process's connections."""

    async def handle(event: ScanHunted) -> None:
        if await scans.start_stage(ctx.pool, event.scan_id, "validate") is None:
            return
        await scans.finish_stage(ctx.pool, event.scan_id, "validate", NO_FILTERS_NOTE)
        counts = await findings.severity_counts(ctx.pool, event.scan_id)
        await scans.complete_scan(ctx.pool, event.scan_id, counts)
        # Published even when an earlier delivery already completed the scan and crashed
        # before publishing: JetStream drops the duplicate if the first publish went out.
        completed = ScanCompleted(
            scan_id=event.scan_id,
            org_id=event.org_id,
            findings=sum(counts.values()),
            severity_counts=counts,
        )
        await ctx.publish(SCAN_COMPLETED, completed)

    return handle
