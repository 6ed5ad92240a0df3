"""The AI hunter's handler for ``scan.static_done``: hunt, store what survived, pass the scan on.

Without an LLM configured the stage records why it did not hunt and passes the scan on. With
one, an LLM failure is recorded on the scan's history and the scan goes on: the static findings
are never lost to the hunter's trouble.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Final

import asyncpg
import msgspec

from vigil_ai_hunter.answers import Provenance
from vigil_ai_hunter.endpoints import load_endpoints
from vigil_ai_hunter.hunt import TIME_SHARE, Hunt, HuntResult, read_code
from vigil_ai_hunter.selection import Candidate, select_files
from vigil_common import findings, llm, scans
from vigil_common.bus import Handler
from vigil_common.db import Pool
from vigil_common.errors import Retry, StorageError
from vigil_common.schemas import Finding, ScanHunted, ScanStaticDone
from vigil_common.scratch import scratch_dir
from vigil_common.subjects import SCAN_HUNTED
from vigil_common.trees import decode_manifest
from vigil_common.worker import StageContext

log = logging.getLogger(__name__)

SKIPPED_REASON: Final = "skipped: no LLM is configured for this server"
_STATIC: Final = (
    "SELECT scanner, rule_id, title, severity, confidence, cwe, file_path, start_line, end_line,"
    " fingerprint FROM findings WHERE scan_id = $1 AND scanner <> 'ai'"
)


def make_handler(ctx: StageContext) -> Handler[ScanStaticDone]:
    """Build the handler bound to this process's connections (and its LLM client, if any)."""
    client = llm.client_from_settings(ctx.settings, ctx.pool)
    embedder = llm.embedder_from_settings(ctx.settings)

    async def handle(event: ScanStaticDone) -> None:
        scan = await scans.start_stage(ctx.pool, event.scan_id, "hunt")
        if scan is None:
            return
        note = SKIPPED_REASON
        if client is not None:
            result = await _hunt(ctx, client, embedder, event)
            if result.cancelled:
                return
            await _store(ctx.pool, scan, result)
            note = result.note(client.model)
        await scans.finish_stage(ctx.pool, event.scan_id, "hunt", note)
        hunted = ScanHunted(
            scan_id=event.scan_id,
            org_id=event.org_id,
            tree_key=event.tree_key,
            manifest_key=event.manifest_key,
        )
        await ctx.publish(SCAN_HUNTED, hunted)

    return handle


async def _hunt(
    ctx: StageContext,
    client: llm.LLMClient,
    embedder: llm.Embedder | None,
    event: ScanStaticDone,
) -> HuntResult:
    started = time.monotonic()
    settings = ctx.settings
    deadline = started + settings.stage_timeout_seconds * TIME_SHARE
    static = [_finding(row) for row in await ctx.pool.fetch(_STATIC, event.scan_id)]
    chosen, texts = await _choose(ctx, event, static)
    hunt = Hunt(
        ctx.pool,
        client,
        event.scan_id,
        deadline,
        settings.llm_token_budget,
        scope=str(event.org_id),
        embedder=embedder,
        max_embedded_chunks=settings.embeddings_max_chunks,
    )
    result = await hunt.run(chosen, texts, static)
    outcome = {
        "scan_id": str(event.scan_id),
        "asked": result.asked,
        "findings": len(result.findings),
        "stopped": result.stopped,
    }
    log.info("hunt finished", extra={**outcome, "seconds": round(time.monotonic() - started, 3)})
    return result


async def _choose(
    ctx: StageContext, event: ScanStaticDone, static: list[Finding]
) -> tuple[list[Candidate], dict[str, str]]:
    """The files to hunt in and the source read for them and for retrieval."""
    async with scratch_dir("vigil-hunt-") as tmp:
        archive = tmp / "tree.packed"
        try:
            manifest = decode_manifest(await ctx.store.get_bytes(event.manifest_key))
            await ctx.store.download(event.tree_key, archive)
        except StorageError as exc:
            raise Retry(str(exc)) from exc
        chosen = select_files(
            manifest,
            Counter(f.file_path for f in static),
            max_files=ctx.settings.llm_max_files,
            token_budget=ctx.settings.llm_token_budget,
            endpoints=await load_endpoints(ctx.pool, event.scan_id),
        )
        paths = [c.path for c in chosen]
        return chosen, await asyncio.to_thread(read_code, archive, manifest, paths)


def _finding(row: asyncpg.Record) -> Finding:
    return msgspec.convert(dict(row), Finding)


async def _store(pool: Pool, scan: asyncpg.Record, result: HuntResult) -> None:
    """Write the findings with their provenance, the usage, and any failure in the history."""
    found = [f for f, _ in result.findings] + result.injections
    await findings.insert_findings(pool, dict(scan), found)
    await _set_provenance(pool, scan["id"], result.findings)
    await pool.execute(
        "UPDATE scans SET llm_usage = llm_usage || jsonb_build_object('hunt', $2::jsonb)"
        " WHERE id = $1",
        scan["id"],
        result.usage,
    )
    if result.stopped:
        await scans.record_event(
            pool, scan["id"], "hunt.stopped_early", "running", "hunt", result.stopped
        )


async def _set_provenance(
    pool: Pool, scan_id: uuid.UUID, found: Sequence[tuple[Finding, Provenance]]
) -> None:
    await pool.executemany(
        "UPDATE findings SET provenance = $3 WHERE scan_id = $1 AND fingerprint = $2",
        [(scan_id, finding.fingerprint, provenance) for finding, provenance in found],
    )
