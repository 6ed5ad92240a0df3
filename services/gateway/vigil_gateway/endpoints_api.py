"""``GET /v1/scans/{id}/endpoints``: the routes the static stage indexed (docs/endpoints.md)."""

from __future__ import annotations

from typing import Final

import msgspec
from aiohttp import web

from vigil_gateway import scans
from vigil_gateway.appkeys import POOL
from vigil_gateway.auth import require
from vigil_gateway.bodies import path_id, query_list
from vigil_gateway.errors import invalid, not_found
from vigil_gateway.responses import json_response
from vigil_gateway.sql import Where

METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
_BOOLEANS: Final = {"true": True, "false": False}


class RouteOut(msgspec.Struct, kw_only=True):
    """One route: ``method`` is an HTTP method or ``ANY``; ``auth`` says whether a check
    (decorator, dependency, middleware, annotation) is visible on it, ``auth_hint`` names it."""

    method: str
    path: str
    file_path: str
    line: int
    handler: str
    framework: str
    auth: bool
    auth_hint: str


class RouteList(msgspec.Struct, kw_only=True):
    """A scan's endpoints in file and line order; ``indexed`` is false when the static stage
    has not (or could not) index the scan, so an empty list is not mistaken for no routes."""

    items: list[RouteOut]
    total: int
    indexed: bool


def _filters(request: web.Request) -> Where:
    where = Where()
    raw_auth = request.query.get("auth")
    if raw_auth is not None:
        if raw_auth not in _BOOLEANS:
            raise invalid("auth must be true or false", field="auth")
        where.add("auth = ?", _BOOLEANS[raw_auth])
    methods = [m.upper() for m in query_list(request, "method")]
    if set(methods) - METHODS:
        raise invalid(f"method must be among {sorted(METHODS)}", field="method")
    where.add_if(methods, "method = ANY(?)")
    where.add_if(query_list(request, "framework"), "framework = ANY(?)")
    return where


async def scan_endpoints(request: web.Request) -> web.Response:
    """The scan's endpoint index, filtered by ``auth``, ``method`` and ``framework``."""
    principal = require(request, "scans:read")
    scan = await scans.scan_row(
        request.app[POOL], principal.org_id, path_id(request, "scan_id", "scan")
    )
    if scan is None:
        raise not_found("scan")
    where = _filters(request).add("scan_id = ?", scan["id"])
    # Only fixed condition text is formatted in; every value is a $n parameter (sql.Where).
    rows = await request.app[POOL].fetch(
        "SELECT method, path, file_path, line, handler, framework, auth, auth_hint"  # noqa: S608
        f" FROM scan_endpoints WHERE {where.sql} ORDER BY seq",
        *where.args,
    )
    items = [RouteOut(**dict(row)) for row in rows]
    indexed = scan["endpoint_count"] is not None
    return json_response(RouteList(items=items, total=len(items), indexed=indexed))


def add_routes(app: web.Application) -> None:
    """Mount the endpoints API."""
    app.router.add_get("/v1/scans/{scan_id}/endpoints", scan_endpoints)
