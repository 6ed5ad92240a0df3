"""HTTP handlers of the v1 scan API: decode, call the domain, encode."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import IO

import msgspec
from aiohttp import web

from vigil_common import admission
from vigil_common.config import Settings
from vigil_common.logs import scan_context
from vigil_common.schemas import ScanRequested
from vigil_common.storage import ObjectMissing, upload_key
from vigil_gateway import audit, lifecycle, scans
from vigil_gateway.appkeys import JETSTREAM, POOL, SETTINGS, STORE
from vigil_gateway.auth import require
from vigil_gateway.bodies import decode_json, path_id, query_list
from vigil_gateway.errors import ApiError, invalid, not_found
from vigil_gateway.idempotency import fingerprint, idempotent
from vigil_gateway.models import CreateScan, ScanOut, UploadTarget
from vigil_gateway.pagination import page_of
from vigil_gateway.ratelimit import quota_check
from vigil_gateway.responses import json_response
from vigil_gateway.scan_cache import SCAN_ANSWERS
from vigil_gateway.sources import (
    check_archive_source,
    check_git_source,
    checked_destination,
    seal_callback_secret,
    seal_token,
)
from vigil_gateway.uploads import (
    CONTENT_TYPES,
    EXTENSIONS,
    archive_format,
    receive_archive,
    too_large,
    unsupported,
)

log = logging.getLogger(__name__)


async def create_scan(request: web.Request) -> web.StreamResponse:
    """``POST /v1/scans``: an archive as the body, or JSON describing the source."""
    principal = require(request, "scans:write")
    await quota_check(request, request.app[SETTINGS])
    if request.content_type == "application/json":
        body = await decode_json(request, CreateScan)
        new = await _create_from_json(request, principal.org_id, body)
        return await _created(request, new)
    fmt = archive_format(request.content_type)
    if fmt is None:
        raise unsupported(request.content_type)
    project = scans.parse_project(request.query.get("project"))
    limit = request.app[SETTINGS].max_upload_bytes
    with await receive_archive(request, fmt, limit) as archive:
        digest = fingerprint(request, iter(lambda: archive.read(1 << 20), b""))
        archive.seek(0)

        async def store() -> web.StreamResponse:
            new = await _create_from_upload(request, principal.org_id, project, fmt, archive)
            return await _created(request, new)

        return await idempotent(request, digest, store)


async def _created(request: web.Request, new: scans.NewScan) -> web.Response:
    scan = await _load(request, new.org_id, new.id)
    if new.status == "created":
        scan.upload = await _upload_target(request, new)
    response = json_response(scan, status=201)
    response.headers["Location"] = f"/v1/scans/{new.id}"
    return response


async def _create_from_upload(
    request: web.Request, org_id: uuid.UUID, project: str, fmt: str, archive: IO[bytes]
) -> scans.NewScan:
    scan_id = uuid.uuid4()
    new = scans.NewScan(
        id=scan_id, org_id=org_id, project=project, source_type="upload", status="queued",
        archive_format=fmt, upload_key=upload_key(scan_id, EXTENSIONS[fmt]),
    )  # fmt: skip
    with scan_context(scan_id):
        await request.app[STORE].put_fileobj(new.upload_key or "", archive, CONTENT_TYPES[fmt])
        await scans.create_scan(request.app[POOL], new)
        await _enqueue(request, new, None)
    return new


async def _create_from_json(
    request: web.Request, org_id: uuid.UUID, body: CreateScan
) -> scans.NewScan:
    settings = request.app[SETTINGS]
    project = scans.parse_project(body.project)
    scan_id = uuid.uuid4()
    callback: dict[str, str | None] = {
        **await _callback(body, settings),
        "language_hint": body.language,
    }
    if body.source_type != "git":
        check_archive_source(body)
        new = scans.NewScan(
            id=scan_id, org_id=org_id, project=project, source_type="upload", status="created",
            archive_format=body.source_type,
            upload_key=upload_key(scan_id, EXTENSIONS[body.source_type]), **callback,
        )  # fmt: skip
        await scans.create_scan(request.app[POOL], new)
        return new
    source = check_git_source(body, settings)
    sealed = seal_token(body.git_token, settings)
    new = scans.NewScan(
        id=scan_id, org_id=org_id, project=project, source_type="git", status="queued",
        repo_url=source.url, ref=source.ref, **callback,
    )  # fmt: skip
    with scan_context(scan_id):
        await scans.create_scan(request.app[POOL], new)
        await _enqueue(request, new, sealed)
    return new


async def _callback(body: CreateScan, settings: Settings) -> dict[str, str | None]:
    """The scan's own webhook: URL checked against SSRF, secret sealed (both optional)."""
    if body.callback_url is None:
        if body.callback_secret is not None:
            raise invalid("callback_secret needs a callback_url", field="callback_secret")
        return {}
    url = await checked_destination(body.callback_url, settings, "callback_url")
    return {
        "callback_url": url,
        "callback_secret_sealed": seal_callback_secret(body.callback_secret, settings),
    }


async def _upload_target(request: web.Request, new: scans.NewScan) -> UploadTarget:
    expires = request.app[SETTINGS].upload_url_expiry_seconds
    content_type = CONTENT_TYPES[new.archive_format or "zip"]
    url = await request.app[STORE].presign_put(new.upload_key or "", expires, content_type)
    return UploadTarget(
        url=url,
        method="PUT",
        headers={"Content-Type": content_type},
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires),
    )


async def _enqueue(request: web.Request, new: scans.NewScan, sealed_token: str | None) -> None:
    event = ScanRequested(
        scan_id=new.id,
        org_id=new.org_id,
        source_type="git" if new.source_type == "git" else "upload",
        upload_key=new.upload_key,
        archive_format=new.archive_format or "zip",
        repo_url=new.repo_url,
        ref=new.ref,
        git_token_sealed=sealed_token,
    )
    settings = request.app[SETTINGS]
    await admission.request_scan(
        request.app[POOL], request.app[JETSTREAM], event, settings.max_running_scans_per_org
    )
    log.info("scan queued", extra={"project": new.project, "source": new.source_type})


async def start_scan(request: web.Request) -> web.Response:
    """``POST /v1/scans/{id}/start``: queue a scan whose archive was PUT to its upload URL."""
    principal = require(request, "scans:write")
    scan_id = path_id(request, "scan_id", "scan")
    row = await scans.scan_row(request.app[POOL], principal.org_id, scan_id)
    if row is None:
        raise not_found("scan")
    if row["status"] != "created":
        raise ApiError(409, "already_started", f"the scan is already {row['status']}")
    await _check_uploaded(request, row["upload_key"])
    if await scans.queue_created_scan(request.app[POOL], principal.org_id, scan_id):
        new = scans.NewScan(
            id=scan_id, org_id=principal.org_id, project=row["project"], source_type="upload",
            status="queued", archive_format=row["archive_format"], upload_key=row["upload_key"],
        )  # fmt: skip
        with scan_context(scan_id):
            await _enqueue(request, new, None)
    else:
        raise ApiError(409, "already_started", "the scan was started by another request")
    return json_response(await _load(request, principal.org_id, scan_id))


async def _check_uploaded(request: web.Request, key: str) -> None:
    try:
        size = await request.app[STORE].head(key)
    except ObjectMissing:
        raise ApiError(
            409, "upload_missing", "upload the archive to the scan's upload URL, then start it"
        ) from None
    limit = request.app[SETTINGS].max_upload_bytes
    if size > limit:
        raise too_large(limit)


async def cancel_scan(request: web.Request) -> web.Response:
    """``POST /v1/scans/{id}/cancel``: stop a scan; later stages do no more work on it."""
    principal = require(request, "scans:manage")
    scan_id = path_id(request, "scan_id", "scan")
    if not await scans.cancel_scan(request.app[POOL], principal.org_id, scan_id):
        scan = await _load(request, principal.org_id, scan_id)
        raise ApiError(409, "already_finished", f"the scan already ended as {scan.status}")
    cap = request.app[SETTINGS].max_running_scans_per_org
    await admission.admit(request.app[POOL], request.app[JETSTREAM], principal.org_id, cap)
    return json_response(await _load(request, principal.org_id, scan_id))


async def get_scan(request: web.Request) -> web.Response:
    """``GET /v1/scans/{id}``: status, stage, history; findings with ``?include_findings=true``."""
    principal = require(request, "scans:read")
    include = request.query.get("include_findings", "false").lower() in {"1", "true", "yes"}
    pool, scan_id, org_id = request.app[POOL], path_id(request, "scan_id", "scan"), principal.org_id
    if include:
        scan = await scans.load_scan(pool, org_id, scan_id, with_findings=True)
        if scan is None:
            raise not_found("scan")
        return json_response(scan)
    answers = request.app[SCAN_ANSWERS]
    version = await scans.scan_version(pool, org_id, scan_id)
    if version is None:
        raise not_found("scan")
    body = answers.get(scan_id, org_id, version)
    if body is None:
        loaded = await scans.load_versioned_scan(pool, org_id, scan_id)
        if loaded is None:
            raise not_found("scan")
        scan, version = loaded
        body = msgspec.json.encode(scan)
        if scan.status != "queued":
            answers.put(scan_id, org_id, version, body)
    return web.Response(body=body, content_type="application/json")


async def list_scans(request: web.Request) -> web.Response:
    """``GET /v1/scans``: newest first, filtered by ``status``, ``project`` and ``since``."""
    principal = require(request, "scans:read")
    since = None
    if "since" in request.query:
        try:
            since = dt.datetime.fromisoformat(request.query["since"])
        except ValueError:
            raise invalid("since must be an ISO 8601 date or time", field="since") from None
    listing = await scans.list_scans(
        request.app[POOL],
        principal.org_id,
        page_of(request),
        statuses=query_list(request, "status", scans.STATUSES),
        project=request.query.get("project"),
        since=since,
    )
    return json_response(listing)


async def _load(request: web.Request, org_id: uuid.UUID, scan_id: uuid.UUID) -> ScanOut:
    scan = await scans.load_scan(request.app[POOL], org_id, scan_id)
    if scan is None:
        raise not_found("scan")
    return scan


async def delete_scan(request: web.Request) -> web.Response:
    """``DELETE /v1/scans/{id}``: the scan and everything it produced, rows and objects."""
    principal = require(request, "scans:manage")
    scan_id = path_id(request, "scan_id", "scan")
    if not await lifecycle.delete_scan(
        request.app[POOL], request.app[STORE], principal.org_id, scan_id
    ):
        raise not_found("scan")
    await audit.record(request.app[POOL], principal, "scan.deleted", "scan", scan_id)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    """Mount the scan API."""
    app.router.add_post("/v1/scans", create_scan)
    app.router.add_get("/v1/scans", list_scans)
    app.router.add_get("/v1/scans/{scan_id}", get_scan)
    app.router.add_delete("/v1/scans/{scan_id}", delete_scan)
    app.router.add_post("/v1/scans/{scan_id}/start", start_scan)
    app.router.add_post("/v1/scans/{scan_id}/cancel", cancel_scan)
