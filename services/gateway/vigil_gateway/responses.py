"""Encoding response bodies: every successful JSON answer of the API goes through here."""

from __future__ import annotations

import msgspec
from aiohttp import web


def json_response(body: msgspec.Struct, status: int = 200) -> web.Response:
    """Encode a response Struct."""
    return web.Response(
        status=status, body=msgspec.json.encode(body), content_type="application/json"
    )
