"""The checks every request passes before its view, in order, as one middleware.

Query text fit for PostgreSQL, then the caller's key, then a rate-limit token, then (creating
POSTs) idempotency. They run as plain calls in one layer rather than one middleware each:
``GET /v1/scans/{id}`` is the API's hottest path and every layer costs a coroutine per request.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from vigil_gateway.auth import authenticate
from vigil_gateway.bodies import refuse_nul
from vigil_gateway.idempotency import idempotently
from vigil_gateway.ratelimit import spend_token


@web.middleware
async def request_checks_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse NUL in the query, authenticate, spend a token, then run the view idempotently."""
    refuse_nul(request)
    await authenticate(request)
    await spend_token(request)
    if request.method == "POST":
        return await idempotently(request, handler)
    return await handler(request)
