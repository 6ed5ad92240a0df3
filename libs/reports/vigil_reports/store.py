"""Rendered reports in S3: one key per scan, content revision and format.

Keys are ``reports/<scan>/<revision>/report.<ext>``: under the prefix a scan's deletion
removes, and named by a digest of the report data, so a change to the scan (a triage
decision, an accepted risk expiring) gives new keys and the next request renders again,
while an unchanged scan is served from what is stored (rendered at finalisation).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from typing import Final

import msgspec

from vigil_common.db import Pool
from vigil_common.storage import ObjectMissing, ObjectStore
from vigil_reports.formats import CONTENT_TYPES, EXTENSIONS, render
from vigil_reports.load import load_report
from vigil_reports.model import FORMATS, Format, Report

log = logging.getLogger(__name__)

# Bumped when a renderer changes what it draws, so stored reports are rendered again.
RENDERER_VERSION: Final = "1"


def revision(report: Report) -> str:
    """A digest of the report data and the renderer version: same data, same revision."""
    digest = hashlib.sha256(RENDERER_VERSION.encode() + msgspec.json.encode(report))
    return digest.hexdigest()[:20]


def report_prefix(scan_id: uuid.UUID) -> str:
    """Where every rendered report of the scan lives (deleted with the scan)."""
    return f"reports/{scan_id}/"


def report_key(report: Report, fmt: Format) -> str:
    """The key of ``report`` rendered as ``fmt``."""
    return f"{report_prefix(report.scan.id)}{revision(report)}/report.{EXTENSIONS[fmt]}"


class StoredReport(msgspec.Struct, frozen=True):
    """A rendered report in S3; ``body`` when this call rendered it (else read it back)."""

    key: str
    content_type: str
    body: bytes | None = None


async def ensure_stored(store: ObjectStore, report: Report, fmt: Format) -> StoredReport:
    """The stored report for this revision and format, rendered and stored when missing."""
    key = report_key(report, fmt)
    try:
        await store.head(key)
        return StoredReport(key, CONTENT_TYPES[fmt])
    except ObjectMissing:
        pass
    started = time.monotonic()
    body = await asyncio.to_thread(render, report, fmt)
    await store.put_bytes(key, body, CONTENT_TYPES[fmt])
    log.info(
        "report rendered",
        extra={"format": fmt, "bytes": len(body), "seconds": round(time.monotonic() - started, 3)},
    )
    return StoredReport(key, CONTENT_TYPES[fmt], body)


async def render_all(pool: Pool, store: ObjectStore, scan_id: uuid.UUID) -> list[str]:
    """Render and store every format of a finished scan (the validator's finalisation).

    Never raises: the scan's result does not depend on its reports, and the gateway renders a
    missing one on request. Logs and returns the formats that failed.
    """
    try:
        report = await load_report(pool, scan_id)
    except Exception:  # a report is a by-product: a failure here must not fail the scan
        log.exception("reports not rendered: the scan could not be loaded")
        return list(FORMATS)
    if report is None:
        return list(FORMATS)
    failed: list[str] = []
    for fmt in FORMATS:
        try:
            await ensure_stored(store, report, fmt)
        except Exception:  # same: one format failing leaves the others and the scan alone
            log.exception("report not rendered", extra={"format": fmt})
            failed.append(fmt)
    return failed
