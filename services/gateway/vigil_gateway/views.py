"""Mounts every v1 API route on the gateway application."""

from __future__ import annotations

from aiohttp import web

from vigil_gateway import (
    audit,
    endpoints_api,
    findings_api,
    keys_api,
    mcp,
    openapi,
    org_api,
    reports_api,
    scans_api,
    triage_api,
)


def add_routes(app: web.Application) -> None:
    """Mount the v1 API."""
    scans_api.add_routes(app)
    findings_api.add_routes(app)
    endpoints_api.add_routes(app)
    reports_api.add_routes(app)
    keys_api.add_routes(app)
    triage_api.add_routes(app)
    audit.add_routes(app)
    org_api.add_routes(app)
    openapi.add_routes(app)
    mcp.add_routes(app)
