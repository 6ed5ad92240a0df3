"""The webhook management API under ``/v1/webhooks`` (scope ``webhooks:manage``).

Endpoints are an organisation's destinations for signed events (``docs/webhooks.md``). The
secret is generated here, shown once (on creation and rotation) and stored sealed; the
notifier unseals it to sign. URLs pass the SSRF guard here and again at every delivery.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from typing import Annotated, Any, Final, Literal

import asyncpg
import msgspec
from aiohttp import web

from vigil_common.sealing import seal
from vigil_gateway.appkeys import POOL, SETTINGS
from vigil_gateway.auth import require
from vigil_gateway.bodies import decode_json, path_id
from vigil_gateway.errors import ApiError, not_found
from vigil_gateway.pagination import encode_cursor, keyset_clause, page_of
from vigil_gateway.responses import json_response
from vigil_gateway.sources import WEBHOOK_SECRET_PURPOSE, checked_destination

SCOPE: Final = "webhooks:manage"
SEALED_FOR: Final = WEBHOOK_SECRET_PURPOSE
# The same closed set as vigil_notifier.payloads.EVENT_TYPES (a test keeps them equal).
EventType = Literal["scan.completed", "scan.failed", "finding.triaged"]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
EventTypes = Annotated[list[EventType], msgspec.Meta(min_length=1)]


class EndpointCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/webhooks``."""

    url: Url
    event_types: EventTypes = msgspec.field(
        default_factory=lambda: ["scan.completed", "scan.failed"]
    )
    description: Description = ""
    enabled: bool = True


class EndpointUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PATCH /v1/webhooks/{id}``: only the fields given change."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class RotateRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/webhooks/{id}/rotate-secret``; ``grace_seconds: 0`` revokes at once."""

    grace_seconds: Annotated[float, msgspec.Meta(ge=0, le=30 * 86400)] | None = None


class EndpointOut(msgspec.Struct, kw_only=True):
    """An endpoint as the API shows it: never its secret."""

    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class EndpointCreated(EndpointOut, kw_only=True):
    """The answer to creation: the endpoint and its secret, shown this once."""

    secret: str


class EndpointList(msgspec.Struct):
    """Every endpoint of the organisation, oldest first."""

    items: list[EndpointOut]


class SecretRotated(msgspec.Struct):
    """A new secret, shown this once; the previous one signs too until it expires."""

    secret: str
    previous_secret_expires_at: dt.datetime | None


class AttemptOut(msgspec.Struct):
    """One attempt of a delivery."""

    attempted_at: dt.datetime
    status: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(msgspec.Struct, kw_only=True):
    """One event sent (or being sent) to the endpoint, with every attempt."""

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    scan_id: uuid.UUID | None
    state: str
    attempts: list[AttemptOut]
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryPage(msgspec.Struct):
    """Deliveries, newest first; pass ``next_cursor`` as ``?cursor=`` for the next page."""

    items: list[DeliveryOut]
    next_cursor: str | None


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def _checked_url(request: web.Request, url: str) -> str:
    return await checked_destination(url, request.app[SETTINGS], "url")


def _secret_response(body: msgspec.Struct, status: int) -> web.Response:
    response = json_response(body, status)
    response.headers["Cache-Control"] = "no-store"  # it carries a secret shown once
    return response


def _sealed(request: web.Request, secret: str) -> str:
    return seal(secret, request.app[SETTINGS].sealing_key, SEALED_FOR)


def _endpoint(row: asyncpg.Record) -> dict[str, Any]:
    return {name: row[name] for name in EndpointOut.__struct_fields__}


async def _owned_endpoint(request: web.Request, org_id: uuid.UUID) -> asyncpg.Record:
    """The endpoint named in the path if it belongs to ``org_id``; 404 otherwise."""
    row = await request.app[POOL].fetchrow(
        "SELECT * FROM webhook_endpoints WHERE id = $1 AND org_id = $2",
        path_id(request, "endpoint_id", "webhook endpoint"),
        org_id,
    )
    if row is None:
        raise not_found("webhook endpoint")
    return row


async def create_endpoint(request: web.Request) -> web.Response:
    """``POST /v1/webhooks``: 201 with the endpoint and its secret (shown once)."""
    principal = require(request, SCOPE)
    body = await decode_json(request, EndpointCreate)
    url = await _checked_url(request, body.url)
    secret = new_secret()
    row = await request.app[POOL].fetchrow(
        "INSERT INTO webhook_endpoints (org_id, url, description, event_types, enabled,"
        " secret_sealed) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        principal.org_id,
        url,
        body.description,
        sorted(set(body.event_types)),
        body.enabled,
        _sealed(request, secret),
    )
    assert row is not None  # INSERT … RETURNING always answers a row
    created = EndpointCreated(**_endpoint(row), secret=secret)
    response = _secret_response(created, 201)
    response.headers["Location"] = f"/v1/webhooks/{created.id}"
    return response


async def list_endpoints(request: web.Request) -> web.Response:
    """``GET /v1/webhooks``."""
    principal = require(request, SCOPE)
    rows = await request.app[POOL].fetch(
        "SELECT * FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id",
        principal.org_id,
    )
    return json_response(EndpointList([EndpointOut(**_endpoint(row)) for row in rows]))


async def get_endpoint(request: web.Request) -> web.Response:
    """``GET /v1/webhooks/{id}``."""
    principal = require(request, SCOPE)
    return json_response(EndpointOut(**_endpoint(await _owned_endpoint(request, principal.org_id))))


async def update_endpoint(request: web.Request) -> web.Response:
    """``PATCH /v1/webhooks/{id}``: enabling again clears the reason and the failure run."""
    principal = require(request, SCOPE)
    endpoint = await _owned_endpoint(request, principal.org_id)
    body = await decode_json(request, EndpointUpdate)
    url = None if body.url is None else await _checked_url(request, body.url)
    types = None if body.event_types is None else sorted(set(body.event_types))
    row = await request.app[POOL].fetchrow(
        "UPDATE webhook_endpoints SET url = coalesce($2, url),"
        " description = coalesce($3, description), event_types = coalesce($4, event_types),"
        " enabled = coalesce($5, enabled), updated_at = now(),"
        " disabled_reason = CASE WHEN $5 THEN NULL WHEN NOT $5 THEN 'disabled through the API'"
        "  ELSE disabled_reason END,"
        " failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END"
        " WHERE id = $1 RETURNING *",
        endpoint["id"],
        url,
        body.description,
        types,
        body.enabled,
    )
    assert row is not None  # found above; deletion in between is not worth a branch
    return json_response(EndpointOut(**_endpoint(row)))


async def delete_endpoint(request: web.Request) -> web.Response:
    """``DELETE /v1/webhooks/{id}``: the endpoint and its delivery log go."""
    principal = require(request, SCOPE)
    endpoint = await _owned_endpoint(request, principal.org_id)
    await request.app[POOL].execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint["id"])
    return web.Response(status=204)


async def rotate_secret(request: web.Request) -> web.Response:
    """``POST /v1/webhooks/{id}/rotate-secret``: a new secret; the old one signs for a while."""
    principal = require(request, SCOPE)
    endpoint = await _owned_endpoint(request, principal.org_id)
    body = await decode_json(request, RotateRequest) if request.body_exists else RotateRequest()
    grace = body.grace_seconds
    if grace is None:
        grace = request.app[SETTINGS].webhook_secret_grace_seconds
    secret = new_secret()
    expires = await request.app[POOL].fetchval(
        "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, secret_sealed = $2,"
        " previous_secret_expires_at = now() + make_interval(secs => $3), updated_at = now()"
        " WHERE id = $1 RETURNING previous_secret_expires_at",
        endpoint["id"],
        _sealed(request, secret),
        grace,
    )
    return _secret_response(SecretRotated(secret, expires if grace > 0 else None), 200)


async def list_deliveries(request: web.Request) -> web.Response:
    """``GET /v1/webhooks/{id}/deliveries?limit=&cursor=``: newest first, with every attempt."""
    principal = require(request, SCOPE)
    endpoint = await _owned_endpoint(request, principal.org_id)
    page = page_of(request)
    keyset, args = keyset_clause(page, 2)
    # Only fixed condition text is formatted in; every value is a $n parameter.
    rows = await request.app[POOL].fetch(
        f"SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND {keyset}"  # noqa: S608
        f" ORDER BY created_at DESC, id DESC LIMIT {page.limit + 1}",
        endpoint["id"],
        *args,
    )
    shown = rows[: page.limit]
    more = len(rows) > page.limit
    next_cursor = encode_cursor(shown[-1]["created_at"], shown[-1]["id"]) if more else None
    items = await _with_attempts(request, shown)
    return json_response(DeliveryPage(items, next_cursor))


async def _with_attempts(request: web.Request, rows: list[asyncpg.Record]) -> list[DeliveryOut]:
    attempts = await request.app[POOL].fetch(
        "SELECT * FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY id",
        [row["id"] for row in rows],
    )
    by_delivery: dict[uuid.UUID, list[AttemptOut]] = {row["id"]: [] for row in rows}
    for a in attempts:
        by_delivery[a["delivery_id"]].append(
            AttemptOut(a["attempted_at"], a["status"], a["latency_ms"], a["error"])
        )
    return [_delivery(row, by_delivery[row["id"]]) for row in rows]


def _delivery(row: asyncpg.Record, attempts: list[AttemptOut]) -> DeliveryOut:
    shown = {name: row[name] for name in DeliveryOut.__struct_fields__ if name in row}
    if row["state"] != "pending":
        shown["next_attempt_at"] = None  # only a pending delivery has a next attempt
    return DeliveryOut(**{**shown, "attempts": attempts})


async def redeliver(request: web.Request) -> web.Response:
    """``POST …/deliveries/{delivery_id}/redeliver``: send the same event (same id) again now."""
    principal = require(request, SCOPE)
    endpoint = await _owned_endpoint(request, principal.org_id)
    if not endpoint["enabled"]:
        raise ApiError(
            409, "endpoint_disabled", "the endpoint is disabled; enable it before redelivering"
        )
    row = await request.app[POOL].fetchrow(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(),"
        " updated_at = now() WHERE id = $1 AND endpoint_id = $2 RETURNING *",
        path_id(request, "delivery_id", "delivery"),
        endpoint["id"],
    )
    if row is None:
        raise not_found("delivery")
    return json_response((await _with_attempts(request, [row]))[0], status=202)


def add_routes(app: web.Application) -> None:
    """Mount the webhook management API."""
    app.router.add_post("/v1/webhooks", create_endpoint)
    app.router.add_get("/v1/webhooks", list_endpoints)
    app.router.add_get("/v1/webhooks/{endpoint_id}", get_endpoint)
    app.router.add_patch("/v1/webhooks/{endpoint_id}", update_endpoint)
    app.router.add_delete("/v1/webhooks/{endpoint_id}", delete_endpoint)
    app.router.add_post("/v1/webhooks/{endpoint_id}/rotate-secret", rotate_secret)
    app.router.add_get("/v1/webhooks/{endpoint_id}/deliveries", list_deliveries)
    app.router.add_post("/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", redeliver)
