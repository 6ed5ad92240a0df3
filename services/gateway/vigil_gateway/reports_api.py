"""``GET /v1/scans/{id}/report``: a finished scan's report, served or as a presigned URL.

The report is read from S3 when this revision of the scan was rendered before (at
finalisation, or by an earlier request), otherwise rendered now and stored
(``vigil_reports.store``). ``?delivery=url`` answers a short-lived presigned GET URL instead
of the bytes, for large reports and for handing a download to a browser or a CI job.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final, Literal

import msgspec
from aiohttp import web

from vigil_common.logs import scan_context
from vigil_common.scans import TERMINAL
from vigil_gateway.appkeys import POOL, SETTINGS, STORE
from vigil_gateway.auth import require
from vigil_gateway.bodies import path_id
from vigil_gateway.errors import ApiError, invalid, not_found
from vigil_gateway.responses import json_response
from vigil_reports import FORMATS, Format, ensure_stored, load_report, parse_format
from vigil_reports.formats import EXTENSIONS
from vigil_reports.render_html import CSP

log = logging.getLogger(__name__)

DELIVERIES: Final = ("inline", "url")
# Opened in a browser, a report may only show itself: no script, no fetch, its own origin.
_HTML_HEADERS: Final = {"Content-Security-Policy": f"{CSP}; sandbox"}


class ReportLink(msgspec.Struct, kw_only=True):
    """Where to download the report (``?delivery=url``): GET ``url`` before ``expires_at``."""

    format: Format
    content_type: str
    url: str
    method: Literal["GET"] = "GET"
    expires_at: dt.datetime


def _format(request: web.Request) -> Format:
    raw = request.query.get("format", "json")
    fmt = parse_format(raw)
    if fmt is None:
        raise invalid(
            f"format must be one of {', '.join(FORMATS)}", field="format", allowed=list(FORMATS)
        )
    return fmt


def _delivery(request: web.Request) -> str:
    delivery = request.query.get("delivery", "inline")
    if delivery not in DELIVERIES:
        raise invalid("delivery must be inline or url", field="delivery", allowed=list(DELIVERIES))
    return delivery


async def get_report(request: web.Request) -> web.StreamResponse:
    """``GET /v1/scans/{id}/report?format=json|markdown|sarif|html|pdf&delivery=inline|url``."""
    principal = require(request, "reports:read")
    scan_id = path_id(request, "scan_id", "scan")
    fmt, delivery = _format(request), _delivery(request)
    report = await load_report(request.app[POOL], scan_id, principal.org_id)
    if report is None:
        raise not_found("scan")
    if report.scan.status not in TERMINAL:
        raise ApiError(
            409, "scan_not_finished",
            f"the scan is {report.scan.status}: its report exists once the scan has ended",
            {"status": report.scan.status},
        )  # fmt: skip
    with scan_context(scan_id):
        stored = await ensure_stored(request.app[STORE], report, fmt)
        if delivery == "url":
            return await _link(request, fmt, stored.key, stored.content_type)
        body = stored.body
        if body is None:
            body = await request.app[STORE].get_bytes(stored.key)
    return _inline(fmt, stored.content_type, body, f"vigil-{scan_id}.{EXTENSIONS[fmt]}")


async def _link(request: web.Request, fmt: Format, key: str, content_type: str) -> web.Response:
    expires = request.app[SETTINGS].report_url_expiry_seconds
    url = await request.app[STORE].presign_get(key, expires)
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires)
    return json_response(
        ReportLink(format=fmt, content_type=content_type, url=url, expires_at=expires_at)
    )


def _inline(fmt: Format, content_type: str, body: bytes, filename: str) -> web.Response:
    # A download for documents a browser would open (HTML, PDF); the others display as text.
    disposition = "attachment" if fmt in {"html", "pdf"} else "inline"
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        **(_HTML_HEADERS if fmt == "html" else {}),
    }
    return web.Response(body=body, headers=headers)


def add_routes(app: web.Application) -> None:
    """Mount the report route."""
    app.router.add_get("/v1/scans/{scan_id}/report", get_report)
