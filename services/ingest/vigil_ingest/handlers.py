"""Ingest's handler for ``scan.requested``: fetch the source, classify it, store the tree.

The tree is stored once in S3 (``trees/<scan>/source.tree.gz``, format in
``vigil_common.trees``, with ``manifest.json``) and only its keys travel on in ``scan.ingested``.
"""

from __future__ import annotations

import asyncio
import logging
import tarfile
import time
from pathlib import Path

from vigil_common import scans
from vigil_common.bus import Handler
from vigil_common.schemas import ScanIngested, ScanRequested, TreeManifest
from vigil_common.scratch import scratch_dir
from vigil_common.storage import ObjectStore, history_key, tree_keys
from vigil_common.subjects import SCAN_INGESTED
from vigil_common.trees import encode_manifest
from vigil_common.worker import StageContext
from vigil_ingest.sources import classify_checkout, classify_upload, fetch_git, fetch_upload
from vigil_ingest.summary import IngestSummary, build_manifest, record_summary, summarise

log = logging.getLogger(__name__)


def make_handler(ctx: StageContext) -> Handler[ScanRequested]:
    """Build the handler bound to this process's connections."""

    async def handle(event: ScanRequested) -> None:
        if await scans.start_stage(ctx.pool, event.scan_id, "ingest") is None:
            return  # the scan already ended (cancelled or failed): nothing to do
        started = time.monotonic()
        async with scratch_dir("vigil-ingest-") as workdir:
            summary, history = await _ingest(ctx, event, workdir)
            keys = tree_keys(event.scan_id)
            await record_summary(ctx.pool, event.scan_id, summary, keys)
            await ctx.publish(
                SCAN_INGESTED,
                ScanIngested(
                    scan_id=event.scan_id,
                    org_id=event.org_id,
                    tree_key=keys[0],
                    manifest_key=keys[1],
                    history_key=history,
                ),
            )
        log.info(
            "ingested %s of %s files",
            summary.included_files,
            summary.total_files,
            extra={"seconds": round(time.monotonic() - started, 3), "source": event.source_type},
        )

    return handle


async def _ingest(
    ctx: StageContext, event: ScanRequested, workdir: Path
) -> tuple[IngestSummary, str | None]:
    """Store the tree (and the git history, when kept); the summary and the history's key."""
    commit_sha: str | None = None
    history: Path | None = None
    packed = workdir / "tree.packed"
    if event.source_type == "git":
        tree, commit_sha, history = await fetch_git(ctx.settings, event, workdir)
        result = await asyncio.to_thread(classify_checkout, tree, ctx.settings, packed)
    else:
        archive = await fetch_upload(ctx.store, event, workdir)
        result = await asyncio.to_thread(
            classify_upload, archive, event.archive_format, ctx.settings, packed
        )
    await _store_tree(ctx.store, event, packed, build_manifest(result, commit_sha))
    key = None
    if history is not None:
        key = await _store_history(ctx.store, event, history, workdir / "history.tar.gz")
    return summarise(result, commit_sha), key


async def _store_history(
    store: ObjectStore, event: ScanRequested, history: Path, packed: Path
) -> str:
    """Pack the ``.git`` folder as it is (objects and all) for the secret scan of the history."""
    await asyncio.to_thread(_pack_folder, history, packed)
    key = history_key(event.scan_id)
    with packed.open("rb") as fileobj:
        await store.put_fileobj(key, fileobj, "application/gzip")
    return key


def _pack_folder(folder: Path, out: Path) -> None:
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(folder / ".git", arcname=".git")


async def _store_tree(
    store: ObjectStore, event: ScanRequested, packed: Path, manifest: TreeManifest
) -> None:
    tree_key, manifest_key = tree_keys(event.scan_id)
    with packed.open("rb") as fileobj:
        await store.put_fileobj(tree_key, fileobj, "application/gzip")
    await store.put_bytes(manifest_key, encode_manifest(manifest), "application/json")
