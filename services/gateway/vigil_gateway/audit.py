"""The audit log of key and triage actions: written beside each action, read by operators."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from vigil_common.db import Executor
from vigil_gateway.appkeys import POOL
from vigil_gateway.auth import require
from vigil_gateway.keys import Principal
from vigil_gateway.models import AuditEntry, AuditList
from vigil_gateway.pagination import encode_cursor, keyset_clause, page_of
from vigil_gateway.responses import json_response


async def record(
    db: Executor,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one action (never the secrets it may have involved)."""
    await db.execute(
        "INSERT INTO audit_log (org_id, key_id, action, target_type, target_id, details)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        principal.org_id,
        principal.key_id,
        action,
        target_type,
        target_id,
        details or {},
    )


async def list_audit(request: web.Request) -> web.Response:
    """``GET /v1/audit-log``: newest first, cursor-paginated (``keys:manage``)."""
    principal = require(request, "keys:manage")
    page = page_of(request)
    keyset, args = keyset_clause(page, 2)
    rows = await request.app[POOL].fetch(
        # Only fixed condition text is formatted in; values are $n parameters.
        "SELECT id, key_id, action, target_type, target_id, details, created_at"  # noqa: S608
        f" FROM audit_log WHERE org_id = $1 AND {keyset}"
        f" ORDER BY created_at DESC, id DESC LIMIT {page.limit + 1}",
        principal.org_id,
        *args,
    )
    items = [AuditEntry(**dict(row)) for row in rows[: page.limit]]
    last = rows[page.limit - 1] if len(rows) > page.limit else None
    cursor = encode_cursor(last["created_at"], last["id"]) if last else None
    return json_response(AuditList(items, cursor))


def add_routes(app: web.Application) -> None:
    """Mount the audit log."""
    app.router.add_get("/v1/audit-log", list_audit)
