"""HTTP handlers of the v1 findings API: one scan's findings, and findings across scans."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final, get_args

import asyncpg
from aiohttp import web

from vigil_common.schemas import SEVERITIES
from vigil_gateway import scans
from vigil_gateway.appkeys import POOL
from vigil_gateway.auth import require
from vigil_gateway.bodies import path_id, query_list
from vigil_gateway.errors import invalid, not_found
from vigil_gateway.models import FindingList, FindingOut, ScanDiff, Validity
from vigil_gateway.pagination import Page, encode_cursor, keyset_clause, page_of
from vigil_gateway.responses import json_response
from vigil_gateway.sql import Where

FINDING_STATUSES: Final = frozenset({"reported", "filtered"})
VALIDITIES: Final = frozenset(get_args(Validity))


def finding_filters(request: web.Request, org_id: uuid.UUID) -> Where:
    """The filters of a findings listing (every value parameterised)."""
    q = request.query
    where = Where().add("f.org_id = ?", org_id)
    where.add_if(query_list(request, "severity", frozenset(SEVERITIES)), "f.severity = ANY(?)")
    where.add_if(query_list(request, "status", FINDING_STATUSES), "f.status = ANY(?)")
    where.add_if(query_list(request, "validity", VALIDITIES), "f.validity = ANY(?)")
    where.add_if(query_list(request, "rule_id"), "f.rule_id = ANY(?)")
    where.add_if(query_list(request, "scanner"), "f.scanner = ANY(?)")
    where.add_if(query_list(request, "cwe"), "f.cwe && ?::text[]")
    where.add_if(q.get("project"), "p.name = ?")
    where.add_if(q.get("file_prefix"), "starts_with(f.file_path, ?)")
    where.add_if(_since(request), "f.created_at >= ?")
    return where


def _since(request: web.Request) -> dt.datetime | None:
    raw = request.query.get("since")
    if raw is None:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        raise invalid("since must be an ISO 8601 date or time", field="since") from None


async def _page(request: web.Request, where: Where, page: Page) -> FindingList:
    keyset, args = keyset_clause(page, where.next_param, "f")
    # Only fixed condition text is formatted in; every value is a $n parameter (sql.Where).
    rows = await request.app[POOL].fetch(
        "SELECT f.* FROM findings f JOIN projects p ON p.id = f.project_id"  # noqa: S608
        f" WHERE {where.sql} AND {keyset} ORDER BY f.created_at DESC, f.id DESC"
        f" LIMIT {page.limit + 1}",
        *where.args,
        *args,
    )
    items = [scans.finding_out(row) for row in rows[: page.limit]]
    last = rows[page.limit - 1] if len(rows) > page.limit else None
    cursor = encode_cursor(last["created_at"], last["id"]) if last else None
    return FindingList(items, cursor)


async def list_findings(request: web.Request) -> web.Response:
    """``GET /v1/findings``: across scans, filtered and cursor-paginated."""
    principal = require(request, "scans:read")
    where = finding_filters(request, principal.org_id)
    where.add_if(query_list(request, "scan_id"), "f.scan_id::text = ANY(?)")
    return json_response(await _page(request, where, page_of(request)))


async def scan_findings(request: web.Request) -> web.Response:
    """``GET /v1/scans/{id}/findings``: one scan's findings, with the same filters."""
    principal = require(request, "scans:read")
    scan_id = path_id(request, "scan_id", "scan")
    if await scans.scan_row(request.app[POOL], principal.org_id, scan_id) is None:
        raise not_found("scan")
    where = finding_filters(request, principal.org_id).add("f.scan_id = ?", scan_id)
    return json_response(await _page(request, where, page_of(request)))


async def get_finding(request: web.Request) -> web.Response:
    """``GET /v1/findings/{id}``."""
    principal = require(request, "scans:read")
    finding_id = path_id(request, "finding_id", "finding")
    row = await request.app[POOL].fetchrow(
        "SELECT * FROM findings WHERE id = $1 AND org_id = $2", finding_id, principal.org_id
    )
    if row is None:
        raise not_found("finding")
    return json_response(scans.finding_out(row))


async def _base_scan(request: web.Request, scan: asyncpg.Record) -> uuid.UUID | None:
    """The scan to compare with: ``?base=``, or the project's previous completed scan."""
    raw = request.query.get("base")
    if raw is not None:
        try:
            base = await scans.scan_row(request.app[POOL], scan["org_id"], uuid.UUID(raw))
        except ValueError:
            base = None
        if base is None:
            raise not_found("base scan")
        return base["id"]  # type: ignore[no-any-return]
    return await request.app[POOL].fetchval(  # type: ignore[no-any-return]
        "SELECT id FROM scans WHERE project_id = $1 AND status = 'completed'"
        " AND created_at < $2 ORDER BY created_at DESC LIMIT 1",
        scan["project_id"],
        scan["created_at"],
    )


async def _reported(request: web.Request, scan_id: uuid.UUID | None) -> dict[str, FindingOut]:
    if scan_id is None:
        return {}
    rows = await request.app[POOL].fetch(
        "SELECT * FROM findings WHERE scan_id = $1 AND status = 'reported'"
        " ORDER BY file_path, start_line",
        scan_id,
    )
    return {row["fingerprint"]: scans.finding_out(row) for row in rows}


async def scan_diff(request: web.Request) -> web.Response:
    """``GET /v1/scans/{id}/diff?base=``: findings new, fixed and unchanged since the base."""
    principal = require(request, "scans:read")
    scan = await scans.scan_row(
        request.app[POOL], principal.org_id, path_id(request, "scan_id", "scan")
    )
    if scan is None:
        raise not_found("scan")
    base_id = await _base_scan(request, scan)
    current, before = await _reported(request, scan["id"]), await _reported(request, base_id)
    diff = ScanDiff(
        scan_id=scan["id"],
        base_scan_id=base_id,
        new=[f for fp, f in current.items() if fp not in before],
        fixed=[f for fp, f in before.items() if fp not in current],
        unchanged=[f for fp, f in current.items() if fp in before],
    )
    return json_response(diff)


def add_routes(app: web.Application) -> None:
    """Mount the findings API."""
    app.router.add_get("/v1/findings", list_findings)
    app.router.add_get("/v1/findings/{finding_id}", get_finding)
    app.router.add_get("/v1/scans/{scan_id}/findings", scan_findings)
    app.router.add_get("/v1/scans/{scan_id}/diff", scan_diff)
