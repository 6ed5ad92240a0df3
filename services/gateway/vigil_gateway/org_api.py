"""``GET/PATCH /v1/organisation``: the caller's organisation and its data retention."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from aiohttp import web

from vigil_gateway import audit
from vigil_gateway.appkeys import POOL, SETTINGS
from vigil_gateway.auth import require
from vigil_gateway.bodies import decode_json
from vigil_gateway.errors import not_found
from vigil_gateway.responses import json_response

Days = Annotated[int, msgspec.Meta(ge=1, le=36500)]


class OrganisationOut(msgspec.Struct):
    """The organisation and how long its finished scans are kept."""

    id: uuid.UUID
    name: str
    retention_days: int | None
    effective_retention_days: int | None


class OrganisationUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Keep finished scans this many days (``null``: the server's default)."""

    retention_days: Days | None


async def _answer(request: web.Request, org_id: uuid.UUID) -> web.Response:
    row = await request.app[POOL].fetchrow(
        "SELECT id, name, retention_days FROM organisations WHERE id = $1", org_id
    )
    if row is None:
        raise not_found("organisation")
    default = request.app[SETTINGS].retention_days or None
    body = OrganisationOut(
        row["id"], row["name"], row["retention_days"], row["retention_days"] or default
    )
    return json_response(body)


async def get_organisation(request: web.Request) -> web.Response:
    """``GET /v1/organisation`` (``keys:manage``)."""
    principal = require(request, "keys:manage")
    return await _answer(request, principal.org_id)


async def update_organisation(request: web.Request) -> web.Response:
    """``PATCH /v1/organisation``: set the retention (``keys:manage``)."""
    principal = require(request, "keys:manage")
    body = await decode_json(request, OrganisationUpdate)
    await request.app[POOL].execute(
        "UPDATE organisations SET retention_days = $2 WHERE id = $1",
        principal.org_id,
        body.retention_days,
    )
    details = {"retention_days": body.retention_days}
    await audit.record(request.app[POOL], principal, "organisation.updated", "organisation",
                       principal.org_id, details)  # fmt: skip
    return await _answer(request, principal.org_id)


def add_routes(app: web.Application) -> None:
    """Mount the organisation API."""
    app.router.add_get("/v1/organisation", get_organisation)
    app.router.add_patch("/v1/organisation", update_organisation)
