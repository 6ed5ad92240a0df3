"""Cursor pagination keyed on ``(created_at, id)``: stable while rows are being inserted.

A cursor names the last row a page showed; the next page starts strictly after it in the same
order (newest first), so rows inserted meanwhile never shift a page and nothing is skipped or
repeated. Cursors are opaque to callers (base64url JSON).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Final

import msgspec
from aiohttp import web

from vigil_gateway.bodies import query_int
from vigil_gateway.errors import invalid

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200


class Cursor(msgspec.Struct, array_like=True, frozen=True):
    """The position after which the next page starts."""

    created_at: dt.datetime
    id: uuid.UUID


class Page(msgspec.Struct, frozen=True):
    """Where a listing starts and how many rows it may return."""

    after: Cursor | None
    limit: int


def encode_cursor(created_at: dt.datetime, row_id: uuid.UUID) -> str:
    """The cursor pointing just after this row."""
    return base64.urlsafe_b64encode(msgspec.json.encode(Cursor(created_at, row_id))).decode()


def page_of(request: web.Request) -> Page:
    """``?cursor=`` and ``?limit=`` of a listing request."""
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    raw = request.query.get("cursor")
    if not raw:
        return Page(None, limit)
    try:
        after = msgspec.json.decode(base64.urlsafe_b64decode(raw.encode()), type=Cursor)
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise invalid("cursor is not one this API issued", field="cursor") from None
    return Page(after, limit)


def keyset_clause(page: Page, first_param: int, alias: str = "") -> tuple[str, list[object]]:
    """SQL restricting rows to those after the cursor, newest first, and its parameters."""
    if page.after is None:
        return "TRUE", []
    prefix = f"{alias}." if alias else ""
    clause = f"({prefix}created_at, {prefix}id) < (${first_param}, ${first_param + 1})"
    return clause, [page.after.created_at, page.after.id]
