"""The AI hunter's handler for ``scan.static_done``.

No LLM client is wired in yet: the stage records why it did not hunt and passes the scan on,
so every scan still reaches a terminal state.
"""

from __future__ import annotations

from typing import Final

from vigil_common import scans
from vigil_common.bus import Handler
from vigil_common.schemas import ScanHunted, ScanStaticDone
from vigil_common.subjects import SCAN_HUNTED
from vigil_common.worker import StageContext

SKIPPED_REASON: Final = "skipped: no LLM is configured for this server"


def make_handler(ctx: StageContext) -> Handler[ScanStaticDone]:
    """Build the handler bound to this process's connections."""

    async def handle(event: ScanStaticDone) -> None:
        if await scans.start_stage(ctx.pool, event.scan_id, "hunt") is None:
            return
        await scans.finish_stage(ctx.pool, event.scan_id, "hunt", SKIPPED_REASON)
        await ctx.publish(
            SCAN_HUNTED,
            ScanHunted(
                scan_id=event.scan_id,
                org_id=event.org_id,
                tree_key=event.tree_key,
                manifest_key=event.manifest_key,
            ),
        )

    return handle
