"""HTTP handlers of the v1 scan API: decode, call the domain, encode."""

from __future__ import annotations

import logging
import uuid

import msgspec
from aiohttp import web

from vigil_common import bus, scans
from vigil_common.errors import Retry
from vigil_common.logs import scan_context
from vigil_common.schemas import ScanFailed, ScanRequested
from vigil_common.storage import upload_key
from vigil_common.subjects import SCAN_FAILED, SCAN_REQUESTED
from vigil_gateway.appkeys import JETSTREAM, POOL, SETTINGS, STORE
from vigil_gateway.auth import require
from vigil_gateway.errors import ApiError, not_found
from vigil_gateway.scans import create_upload_scan, load_scan, parse_project
from vigil_gateway.uploads import archive_format, receive_archive

log = logging.getLogger(__name__)


def json_response(body: msgspec.Struct, status: int = 200) -> web.Response:
    """Encode a response Struct."""
    return web.Response(
        status=status, body=msgspec.json.encode(body), content_type="application/json"
    )


async def create_scan(request: web.Request) -> web.Response:
    """``POST /v1/scans``: a ZIP archive as the body, ``?project=`` naming its project."""
    principal = require(request, "scans:write")
    project = parse_project(request.query.get("project"))
    fmt = archive_format(request)
    scan_id = uuid.uuid4()
    key = upload_key(scan_id, fmt)
    with (
        scan_context(scan_id),
        await receive_archive(request, request.app[SETTINGS].max_upload_bytes) as archive,
    ):
        await request.app[STORE].put_fileobj(key, archive, "application/zip")
        await create_upload_scan(request.app[POOL], principal.org_id, project, scan_id, key, fmt)
        await _enqueue(
            request,
            ScanRequested(
                scan_id=scan_id, org_id=principal.org_id, source_type="upload", upload_key=key
            ),
        )
        log.info("scan created", extra={"project": project})
    scan = await load_scan(request.app[POOL], principal.org_id, scan_id)
    assert scan is not None  # just written in this request
    response = json_response(scan, status=201)
    response.headers["Location"] = f"/v1/scans/{scan_id}"
    return response


async def _enqueue(request: web.Request, event: ScanRequested) -> None:
    try:
        await bus.publish(request.app[JETSTREAM], SCAN_REQUESTED, event)
    except Retry:
        reason = "the scan could not be queued: the message bus is unavailable"
        await scans.fail_scan(request.app[POOL], event.scan_id, reason)
        # The failure is announced on a best-effort basis: the bus just refused a publish.
        failed = ScanFailed(scan_id=event.scan_id, org_id=event.org_id, reason=reason)
        try:
            await bus.publish(request.app[JETSTREAM], SCAN_FAILED, failed)
        except Retry:
            log.warning("could not announce the failed scan")
        raise ApiError(503, "unavailable", reason + "; retry later") from None


async def get_scan(request: web.Request) -> web.Response:
    """``GET /v1/scans/{id}``: status, stage, history and findings."""
    principal = require(request, "scans:read")
    try:
        scan_id = uuid.UUID(request.match_info["scan_id"])
    except ValueError:
        raise not_found("scan") from None
    scan = await load_scan(request.app[POOL], principal.org_id, scan_id)
    if scan is None:
        raise not_found("scan")
    return json_response(scan)


def add_routes(app: web.Application) -> None:
    """Mount the v1 scan API."""
    app.router.add_post("/v1/scans", create_scan)
    app.router.add_get("/v1/scans/{scan_id}", get_scan)
