"""The validator's handler for ``scan.hunted``: judge every finding, score, finalise, announce.

Order: merge duplicates across scanners, apply the rule-based filters (each with a reason),
then, when an LLM is configured, a verdict on each finding still reported. Then score and grade
the reported findings, complete the scan and publish ``scan.completed``. An LLM failure is
recorded in the scan's history and the findings not yet judged stay reported.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Final

from vigil_common import findings, llm, scans, scorecard
from vigil_common.bus import Handler
from vigil_common.db import Pool
from vigil_common.errors import Retry, StorageError
from vigil_common.schemas import ScanCompleted, ScanHunted
from vigil_common.subjects import SCAN_COMPLETED
from vigil_common.trees import read_files
from vigil_common.worker import StageContext
from vigil_reports import render_all
from vigil_validator import candidates, dedup, filters
from vigil_validator.candidates import Candidate, Decision
from vigil_validator.verdicts import Review

log = logging.getLogger(__name__)

# Part of the stage's time limit the model may use; the rest is for writing and publishing.
TIME_SHARE: Final = 0.7
NO_LLM_NOTE: Final = "LLM validation skipped: no LLM is configured for this server"


def make_handler(ctx: StageContext) -> Handler[ScanHunted]:
    """Build the handler bound to this process's connections (and its LLM client, if any)."""
    # With the pool, answers are cached per organisation (vigil_common.llm.ResponseCache).
    client = llm.client_from_settings(ctx.settings, ctx.pool)

    async def handle(event: ScanHunted) -> None:
        if await scans.start_stage(ctx.pool, event.scan_id, "validate") is None:
            return
        started = time.monotonic()
        note = await _validate(ctx, client, event)
        await scans.finish_stage(ctx.pool, event.scan_id, "validate", note)
        log.info("validated", extra={"seconds": round(time.monotonic() - started, 3)})
        await _finalise(ctx, event)

    return handle


async def _validate(ctx: StageContext, client: llm.LLMClient | None, event: ScanHunted) -> str:
    """Decide on every finding of the scan and store the decisions; the history note."""
    found = await candidates.load(ctx.pool, event.scan_id)
    decisions = {c.id: candidates.initial(c) for c in found}
    kept = dedup.deduplicate(found, decisions)
    sources = await _sources(ctx, event, {c.file_path for c in kept})
    by_rule = 0
    for candidate in kept:
        if candidate.validity == "valid":
            continue  # a person confirmed it: no rule may dismiss it
        reason = filters.first_reason(candidate, sources.get(candidate.file_path))
        if reason is not None:
            decisions[candidate.id].dismiss(reason)
            by_rule += 1
    merged = len(found) - len(kept)
    note = f"{len(found)} candidates: {merged} duplicates merged, {by_rule} filtered by rules"
    if client is None:
        note += f"; {NO_LLM_NOTE}"
    else:
        note += await _review(ctx, client, event, kept, decisions, sources)
    await candidates.save(ctx.pool, decisions.items())
    await _score(ctx.pool, event.scan_id)
    return note


async def _review(
    ctx: StageContext,
    client: llm.LLMClient,
    event: ScanHunted,
    kept: list[Candidate],
    decisions: dict[uuid.UUID, Decision],
    sources: dict[str, list[str]],
) -> str:
    deadline = time.monotonic() + ctx.settings.stage_timeout_seconds * TIME_SHARE
    settings = ctx.settings
    review = Review(
        client,
        settings.llm_filter_critical,
        settings.llm_max_validations,
        deadline,
        may_filter=settings.llm_may_filter,
    )
    review.scope = str(event.org_id)
    scan_id = event.scan_id
    await review.run(kept, decisions, sources)
    await ctx.pool.execute(
        "UPDATE scans SET llm_usage = llm_usage || jsonb_build_object('validate', $2::jsonb)"
        " WHERE id = $1",
        scan_id,
        review.usage,
    )
    note = f", model {client.model} judged {review.judged} and filtered {review.dismissed}"
    if review.stopped:
        await scans.record_event(
            ctx.pool, scan_id, "validate.llm_failed", "running", "validate", review.stopped
        )
        note += f"; LLM validation stopped early: {review.stopped}"
    return note


async def _sources(ctx: StageContext, event: ScanHunted, paths: set[str]) -> dict[str, list[str]]:
    """The lines of the files that have findings (the filters and the model read them)."""
    if not paths:
        return {}
    with tempfile.TemporaryDirectory(prefix="vigil-validate-") as tmp:
        archive = Path(tmp) / "tree.packed"
        try:
            await ctx.store.download(event.tree_key, archive)
        except StorageError as exc:
            raise Retry(str(exc)) from exc
        contents = await asyncio.to_thread(read_files, archive, paths)
    return {
        path: data.decode("utf-8", errors="replace").splitlines() for path, data in contents.items()
    }


async def _score(pool: Pool, scan_id: uuid.UUID) -> None:
    """Security score, grade, launch readiness and summary from the reported findings."""
    card = await scorecard.rescore(pool, scan_id, running_only=True)
    log.info(
        "scored",
        extra={
            "score": card.score,
            "readiness": card.launch_readiness,
            "blocking": len(card.blockers),
        },
    )


async def _finalise(ctx: StageContext, event: ScanHunted) -> None:
    counts = await findings.severity_counts(ctx.pool, event.scan_id)
    await scans.complete_scan(ctx.pool, event.scan_id, counts)
    row = await scans.fetch_scan(ctx.pool, event.scan_id)
    if row is None or row["status"] != "completed":
        return  # cancelled or failed meanwhile: the notifier hears of it from that path
    # Stored before announcing, so the first download is quick; render_all never raises.
    await render_all(ctx.pool, ctx.store, event.scan_id)
    # Published even when an earlier delivery already completed the scan and crashed
    # before publishing: JetStream drops the duplicate if the first publish went out.
    completed = ScanCompleted(
        scan_id=event.scan_id,
        org_id=event.org_id,
        findings=sum(counts.values()),
        severity_counts=counts,
        score=row["score"],
        grade=row["grade"],
    )
    await ctx.publish(SCAN_COMPLETED, completed)
