"""HTTP handlers for API keys and ``GET /v1/me``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Final

import msgspec
from aiohttp import web

from vigil_gateway import audit
from vigil_gateway.appkeys import KEY_CACHE, NATS_CLIENT, POOL, PRINCIPAL, SETTINGS
from vigil_gateway.auth import require
from vigil_gateway.bodies import decode_json, path_id
from vigil_gateway.errors import ApiError, invalid, not_found
from vigil_gateway.key_cache import broadcast_revoked
from vigil_gateway.keys import (
    DEFAULT_SCOPES,
    Scope,
    create_key,
    generate_key,
    hash_key,
    key_by_hash,
    key_by_id,
    keys_of,
    revoke_key,
)
from vigil_gateway.responses import json_response

MAX_KEYS_LISTED: Final = 1000


class CreateKey(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/keys``: a label, the scopes (default: read only) and an optional expiry."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: list[Scope] | None = None
    expires_at: dt.datetime | None = None


class KeyOut(msgspec.Struct, kw_only=True):
    """A key as listings show it: never the key itself, only its first characters."""

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewKey(KeyOut, kw_only=True):
    """A key just created: ``key`` is shown this once and cannot be recovered."""

    key: str


class KeyList(msgspec.Struct):
    """The organisation's keys, newest first."""

    items: list[KeyOut]


class Organisation(msgspec.Struct):
    """The caller's organisation."""

    id: uuid.UUID
    name: str


class Usage(msgspec.Struct):
    """Scans the organisation created in the current UTC day and month."""

    scans_today: int
    scans_this_month: int


class Quota(msgspec.Struct):
    """The organisation's limits (``null``: none)."""

    scans_per_day: int | None
    scans_per_month: int | None
    running_scans: int | None


class Me(msgspec.Struct):
    """Who is calling, with what, how much they may use and how much they have used."""

    organisation: Organisation
    key: KeyOut
    quota: Quota
    usage: Usage


_KEY_COLUMNS: Final = "id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at"


async def create(request: web.Request) -> web.Response:
    """``POST /v1/keys``: a new key of the caller's organisation, shown once."""
    principal = require(request, "keys:manage")
    body = await decode_json(request, CreateKey)
    scopes = tuple(body.scopes if body.scopes is not None else DEFAULT_SCOPES)
    beyond = sorted(set(scopes) - principal.scopes)
    if beyond:
        raise ApiError(
            403, "scope_not_held", "a key cannot grant scopes its creator lacks",
            {"scopes": beyond},
        )  # fmt: skip
    if body.expires_at is not None and body.expires_at <= dt.datetime.now(dt.UTC):
        raise invalid("expires_at must be in the future", field="expires_at")
    pool = request.app[POOL]
    key = generate_key()
    await create_key(pool, principal.org_id, body.name, scopes, key=key, expires_at=body.expires_at)
    row = await key_by_hash(pool, hash_key(key))
    assert row is not None  # written just above
    details = {"name": body.name, "scopes": list(scopes), "prefix": row["prefix"]}
    await audit.record(pool, principal, "key.created", "key", row["id"], details)
    response = json_response(NewKey(key=key, **dict(row)), status=201)
    response.headers["Cache-Control"] = "no-store"  # the key is shown this once
    return response


async def list_keys(request: web.Request) -> web.Response:
    """``GET /v1/keys``: every key of the organisation, without secrets."""
    principal = require(request, "keys:manage")
    rows = await keys_of(request.app[POOL], principal.org_id, MAX_KEYS_LISTED)
    return json_response(KeyList([KeyOut(**dict(row)) for row in rows]))


async def revoke(request: web.Request) -> web.Response:
    """``DELETE /v1/keys/{id}``: the key stops working on every replica at once."""
    principal = require(request, "keys:manage")
    key_id = path_id(request, "key_id", "key")
    if not await revoke_key(request.app[POOL], principal.org_id, key_id):
        raise not_found("key")
    await audit.record(request.app[POOL], principal, "key.revoked", "key", key_id)
    request.app[KEY_CACHE].evict(key_id)  # here at once; other replicas on the broadcast
    await broadcast_revoked(request.app[NATS_CLIENT], key_id)
    return web.Response(status=204)


async def me(request: web.Request) -> web.Response:
    """``GET /v1/me``: any valid key may ask who it is."""
    principal = request[PRINCIPAL]
    pool = request.app[POOL]
    org = await pool.fetchrow("SELECT id, name FROM organisations WHERE id = $1", principal.org_id)
    key = await key_by_id(pool, principal.key_id)
    usage = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE created_at >= date_trunc('day', now())) AS today,"
        " count(*) AS month FROM scans WHERE org_id = $1"
        " AND created_at >= date_trunc('month', now())",
        principal.org_id,
    )
    if org is None or key is None or usage is None:
        raise not_found("key")
    settings = request.app[SETTINGS]
    body = Me(
        Organisation(org["id"], org["name"]),
        KeyOut(**dict(key)),
        Quota(
            scans_per_day=settings.scan_quota_daily or None,
            scans_per_month=settings.scan_quota_monthly or None,
            running_scans=settings.max_running_scans_per_org or None,
        ),
        Usage(scans_today=usage["today"], scans_this_month=usage["month"]),
    )
    return json_response(body)


def add_routes(app: web.Application) -> None:
    """Mount the key API."""
    app.router.add_post("/v1/keys", create)
    app.router.add_get("/v1/keys", list_keys)
    app.router.add_delete("/v1/keys/{key_id}", revoke)
    app.router.add_get("/v1/me", me)
