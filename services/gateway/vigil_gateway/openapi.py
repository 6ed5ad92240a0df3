"""The OpenAPI 3.1 description of the v1 API, generated from the same msgspec Structs the
handlers decode and encode, and the offline interactive docs at ``/docs``.

Every operation is listed once in :data:`OPERATIONS`; a test checks that the list and the
router agree, so the document cannot drift from what the server serves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec
import swagger_ui_bundle
from aiohttp import web

from vigil_gateway import endpoints_api, keys_api, org_api, reports_api, webhooks_api
from vigil_gateway.errors import ErrorResponse
from vigil_gateway.mcp.protocol import JsonRpcMessage
from vigil_gateway.models import (
    AuditList,
    CommentList,
    CommentOut,
    CreateScan,
    FindingList,
    FindingOut,
    NewComment,
    ScanDiff,
    ScanList,
    ScanOut,
    Triage,
)
from vigil_gateway.uploads import CONTENT_TYPES

SPEC_PATH: Final = "/v1/openapi.json"
DOCS_PATH: Final = "/docs"


@dataclass(frozen=True)
class Param:
    """A path or query parameter."""

    name: str
    where: str = "query"
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One route: what it takes, what it answers, and the scope it needs."""

    method: str
    path: str
    summary: str
    scope: str | None
    response: type | None
    status: int = 200
    body: type | None = None
    params: tuple[Param, ...] = ()
    archive_body: bool = False
    # Other media types the success response may have besides JSON (e.g. a rendered report).
    media: tuple[str, ...] = ()


SCAN_ID = Param("scan_id", "path", {"type": "string", "format": "uuid"})
FINDING_ID = Param("finding_id", "path", {"type": "string", "format": "uuid"})
ENDPOINT_ID = Param("endpoint_id", "path", {"type": "string", "format": "uuid"})
DELIVERY_ID = Param("delivery_id", "path", {"type": "string", "format": "uuid"})
PAGING = (
    Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 200}),
    Param("cursor", description="next_cursor of the previous page"),
)
FINDING_FILTERS = (
    Param("severity", description="comma-separated: critical,high,medium,low,info"),
    Param("status", description="reported or filtered"),
    Param("validity", description="unreviewed, valid, invalid, acknowledged"),
    Param("rule_id"),
    Param("scanner"),
    Param("cwe", description="e.g. CWE-89"),
    Param("project"),
    Param("file_prefix"),
    Param("since", schema={"type": "string", "format": "date-time"}),
    *PAGING,
)

OPERATIONS: Final = (
    Operation("post", "/v1/scans", "Create a scan", "scans:write", ScanOut, 201, CreateScan,
              (Param("project", description="with an archive body"),), archive_body=True),
    Operation("get", "/v1/scans", "List scans, newest first", "scans:read", ScanList,
              params=(Param("status"), Param("project"),
                      Param("since", schema={"type": "string", "format": "date-time"}), *PAGING)),
    Operation("get", "/v1/scans/{scan_id}", "Get a scan", "scans:read", ScanOut,
              params=(SCAN_ID, Param("include_findings", schema={"type": "boolean"}))),
    Operation("delete", "/v1/scans/{scan_id}", "Delete a scan and all it produced",
              "scans:manage", None, 204, params=(SCAN_ID,)),
    Operation("get", "/v1/organisation", "The organisation and its retention", "keys:manage",
              org_api.OrganisationOut),
    Operation("patch", "/v1/organisation", "Set the organisation's retention", "keys:manage",
              org_api.OrganisationOut, body=org_api.OrganisationUpdate),
    Operation("post", "/v1/scans/{scan_id}/start", "Start a scan after its upload",
              "scans:write", ScanOut, params=(SCAN_ID,)),
    Operation("post", "/v1/scans/{scan_id}/cancel", "Cancel a scan", "scans:manage", ScanOut,
              params=(SCAN_ID,)),
    Operation("get", "/v1/scans/{scan_id}/findings", "A scan's findings", "scans:read",
              FindingList, params=(SCAN_ID, *FINDING_FILTERS)),
    Operation("get", "/v1/findings", "Findings across scans", "scans:read", FindingList,
              params=(Param("scan_id"), *FINDING_FILTERS)),
    Operation("get", "/v1/findings/{finding_id}", "Get a finding", "scans:read", FindingOut,
              params=(FINDING_ID,)),
    Operation("patch", "/v1/findings/{finding_id}", "Triage a finding", "findings:write",
              FindingOut, body=Triage, params=(FINDING_ID,)),
    Operation("get", "/v1/findings/{finding_id}/comments", "A finding's comments",
              "scans:read", CommentList, params=(FINDING_ID,)),
    Operation("post", "/v1/findings/{finding_id}/comments", "Comment on a finding",
              "findings:write", CommentOut, 201, NewComment, params=(FINDING_ID,)),
    Operation("get", "/v1/scans/{scan_id}/report",
              "A finished scan's report (409 while it runs); delivery=url: a presigned URL",
              "reports:read", reports_api.ReportLink,
              params=(SCAN_ID, Param("format", schema={"enum": ["json", "markdown", "sarif",
                                                                  "html", "pdf"]}),
                      Param("delivery", schema={"enum": ["inline", "url"]})),
              media=("text/markdown", "application/sarif+json", "text/html", "application/pdf")),
    Operation("get", "/v1/scans/{scan_id}/diff", "Findings new, fixed and unchanged",
              "scans:read", ScanDiff,
              params=(SCAN_ID, Param("base", description="default: previous completed scan"))),
    Operation("get", "/v1/scans/{scan_id}/endpoints", "A scan's HTTP endpoint index",
              "scans:read", endpoints_api.RouteList,
              params=(SCAN_ID, Param("auth", schema={"type": "string", "enum": ["true", "false"]}),
                      Param("method", description="comma-separated: GET,POST,…,ANY"),
                      Param("framework", description="e.g. flask,express,spring"))),
    Operation("get", "/v1/audit-log", "Key and triage actions, newest first", "keys:manage",
              AuditList, params=PAGING),
    Operation("post", "/v1/keys", "Create an API key (shown once)", "keys:manage",
              keys_api.NewKey, 201, keys_api.CreateKey),
    Operation("get", "/v1/keys", "List API keys", "keys:manage", keys_api.KeyList),
    Operation("delete", "/v1/keys/{key_id}", "Revoke an API key", "keys:manage", None, 204,
              params=(Param("key_id", "path", {"type": "string", "format": "uuid"}),)),
    Operation("get", "/v1/me", "Who is calling", None, keys_api.Me),
    Operation("post", "/v1/mcp", "MCP server, streamable HTTP (docs/mcp.md): JSON-RPC in and out",
              None, JsonRpcMessage, body=JsonRpcMessage),
    Operation("get", "/v1/mcp", "MCP: no server-initiated stream, always 405", None, None, 405),
    Operation("delete", "/v1/mcp", "MCP: end the session named in Mcp-Session-Id", None, None,
              204),
    Operation("post", "/v1/webhooks", "Create a webhook endpoint (its secret is shown once)",
              "webhooks:manage", webhooks_api.EndpointCreated, 201, webhooks_api.EndpointCreate),
    Operation("get", "/v1/webhooks", "List webhook endpoints", "webhooks:manage",
              webhooks_api.EndpointList),
    Operation("get", "/v1/webhooks/{endpoint_id}", "Get a webhook endpoint", "webhooks:manage",
              webhooks_api.EndpointOut, params=(ENDPOINT_ID,)),
    Operation("patch", "/v1/webhooks/{endpoint_id}", "Update a webhook endpoint",
              "webhooks:manage", webhooks_api.EndpointOut, body=webhooks_api.EndpointUpdate,
              params=(ENDPOINT_ID,)),
    Operation("delete", "/v1/webhooks/{endpoint_id}", "Delete a webhook endpoint",
              "webhooks:manage", None, 204, params=(ENDPOINT_ID,)),
    Operation("post", "/v1/webhooks/{endpoint_id}/rotate-secret",
              "Rotate the signing secret (shown once)", "webhooks:manage",
              webhooks_api.SecretRotated, params=(ENDPOINT_ID,)),
    Operation("get", "/v1/webhooks/{endpoint_id}/deliveries", "The delivery log, newest first",
              "webhooks:manage", webhooks_api.DeliveryPage, params=(ENDPOINT_ID, *PAGING)),
    Operation("post", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
              "Send a delivery's event again (same id)", "webhooks:manage",
              webhooks_api.DeliveryOut, 202, params=(ENDPOINT_ID, DELIVERY_ID)),
)  # fmt: skip

_ERRORS: Final = {
    "400": "Malformed request",
    "401": "Missing, unknown, revoked or expired key",
    "402": "The organisation's scan quota is used up",
    "403": "The key lacks the scope",
    "404": "Not found in your organisation",
    "409": "Conflicts with the resource's state",
    "413": "Too large",
    "415": "Unsupported Content-Type",
    "422": "Invalid field (details.field names it)",
    "429": "Rate limited: retry after Retry-After seconds",
    "503": "A dependency is unavailable; retry later",
}


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(op),
        "parameters": [
            {"name": p.name, "in": p.where, "required": p.where == "path", "schema": p.schema,
             "description": p.description}
            for p in op.params
        ],
        "responses": {str(op.status): _success(op)} | {
            code: {"description": text, "content": _json(ErrorResponse)}
            for code, text in _ERRORS.items()
        },
    }  # fmt: skip
    if op.scope:
        doc["description"] = f"Needs the `{op.scope}` scope."
    if op.body is not None or op.archive_body:
        doc["requestBody"] = {"required": True, "content": _request_content(op)}
    return doc


def _operation_id(op: Operation) -> str:
    words = op.path.strip("/").replace("{", "").replace("}", "").split("/")
    return "_".join([op.method, *words])


def _success(op: Operation) -> dict[str, Any]:
    if op.response is None:
        return {"description": "Done"}
    media = {m: {"schema": {"type": "string", "contentMediaType": m}} for m in op.media}
    return {"description": "OK", "content": _json(op.response) | media}


def _request_content(op: Operation) -> dict[str, Any]:
    content = _json(op.body) if op.body is not None else {}
    if op.archive_body:
        for media in sorted(set(CONTENT_TYPES.values())):
            content[media] = {"schema": {"type": "string", "contentMediaType": media}}
    return content


def _json(kind: type) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{kind.__name__}"}}}


@functools.cache
def spec() -> bytes:
    """The OpenAPI document, encoded once."""
    kinds = {k for op in OPERATIONS for k in (op.body, op.response) if k is not None}
    _, components = msgspec.json.schema_components(
        sorted(kinds | {ErrorResponse}, key=lambda k: k.__name__),
        ref_template="#/components/schemas/{name}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Vigil", "version": "1", "description": "Self-hosted code scanning"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
    }
    return msgspec.json.encode(document)


async def serve_spec(_request: web.Request) -> web.Response:
    """``GET /v1/openapi.json`` (no key needed)."""
    return web.Response(body=spec(), content_type="application/json")


_DOCS_HTML: Final = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><title>Vigil API</title>
<link rel="stylesheet" href="{DOCS_PATH}/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{DOCS_PATH}/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "{SPEC_PATH}", dom_id: "#swagger-ui"}});</script>
</body></html>"""


async def serve_docs(_request: web.Request) -> web.Response:
    """``GET /docs``: Swagger UI from assets installed with the gateway (works offline)."""
    return web.Response(text=_DOCS_HTML, content_type="text/html")


def add_routes(app: web.Application) -> None:
    """Mount the spec and the docs."""
    app.router.add_get(SPEC_PATH, serve_spec)
    app.router.add_get(DOCS_PATH, serve_docs)
    app.router.add_static(f"{DOCS_PATH}/static", Path(swagger_ui_bundle.swagger_ui_path))
