"""Ingest's handler for ``scan.requested``: fetch the upload, extract it, store the tree."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from vigil_common import scans
from vigil_common.bus import Handler
from vigil_common.errors import Reject, Retry, StorageError
from vigil_common.schemas import ScanIngested, ScanRequested, TreeManifest
from vigil_common.storage import ObjectMissing, tree_keys
from vigil_common.subjects import SCAN_INGESTED
from vigil_common.trees import encode_manifest, pack_tree
from vigil_common.worker import StageContext
from vigil_ingest.extract import ArchiveRefused, Limits, extract_zip


def limits_from(ctx: StageContext) -> Limits:
    """The archive limits configured for this deployment."""
    s = ctx.settings
    return Limits(
        s.max_archive_bytes, s.max_archive_files, s.max_file_bytes, s.max_compression_ratio
    )


def make_handler(ctx: StageContext) -> Handler[ScanRequested]:
    """Build the handler bound to this process's connections."""

    async def handle(event: ScanRequested) -> None:
        if await scans.start_stage(ctx.pool, event.scan_id, "ingest") is None:
            return  # the scan already ended (cancelled or failed): nothing to do
        if event.source_type != "upload" or event.upload_key is None:
            raise Reject("this server cannot fetch git repositories yet; upload an archive")
        with tempfile.TemporaryDirectory(prefix="vigil-ingest-") as tmp:
            manifest = await _ingest_upload(ctx, event, event.upload_key, Path(tmp))
        tree_key, manifest_key = tree_keys(event.scan_id)
        await _record_counts(ctx, event, manifest, tree_key, manifest_key)
        await ctx.publish(
            SCAN_INGESTED,
            ScanIngested(
                scan_id=event.scan_id,
                org_id=event.org_id,
                tree_key=tree_key,
                manifest_key=manifest_key,
            ),
        )

    return handle


async def _ingest_upload(
    ctx: StageContext, event: ScanRequested, upload_key: str, workdir: Path
) -> TreeManifest:
    archive, tree, packed = workdir / "upload.zip", workdir / "tree", workdir / "tree.tar.gz"
    try:
        await ctx.store.download(upload_key, archive)
    except ObjectMissing:
        raise Reject("the uploaded archive is missing from storage; upload it again") from None
    except StorageError as exc:
        raise Retry(str(exc)) from exc
    try:
        manifest = await asyncio.to_thread(extract_zip, archive, tree, limits_from(ctx))
    except ArchiveRefused as exc:
        raise Reject(f"archive refused: {exc.reason}") from None
    await asyncio.to_thread(pack_tree, tree, manifest, packed)
    tree_key, manifest_key = tree_keys(event.scan_id)
    with packed.open("rb") as fileobj:
        await ctx.store.put_fileobj(tree_key, fileobj, "application/gzip")
    await ctx.store.put_bytes(manifest_key, encode_manifest(manifest), "application/json")
    return manifest


async def _record_counts(
    ctx: StageContext,
    event: ScanRequested,
    manifest: TreeManifest,
    tree_key: str,
    manifest_key: str,
) -> None:
    await ctx.pool.execute(
        "UPDATE scans SET tree_key = $2, manifest_key = $3, total_files = $4, total_bytes = $5,"
        " languages = $6, updated_at = now() WHERE id = $1",
        event.scan_id,
        tree_key,
        manifest_key,
        manifest.total_files,
        manifest.total_bytes,
        manifest.languages,
    )
    detail = f"{manifest.total_files} files, {manifest.total_bytes} bytes"
    await scans.finish_stage(ctx.pool, event.scan_id, "ingest", detail)
