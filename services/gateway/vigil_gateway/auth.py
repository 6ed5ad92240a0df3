"""Authentication of ``/v1`` requests by API key, and scope checks for views."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from vigil_gateway.appkeys import KEY_CACHE, PRINCIPAL
from vigil_gateway.errors import ApiError
from vigil_gateway.keys import Principal

PROTECTED_PREFIX: Final = "/v1/"
PUBLIC_PATHS: Final = frozenset({"/v1/openapi.json"})


def presented_key(request: web.Request) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key", "").strip() or None


async def authenticate(request: web.Request) -> None:
    """Resolve the caller of every ``/v1`` request, or answer 401."""
    if request.path.startswith(PROTECTED_PREFIX) and request.path not in PUBLIC_PATHS:
        key = presented_key(request)
        if key is None:
            raise ApiError(
                401,
                "unauthenticated",
                "send your API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            )
        principal = await request.app[KEY_CACHE].principal(key)
        if principal is None:
            raise ApiError(401, "invalid_api_key", "the API key is unknown, revoked or expired")
        request[PRINCIPAL] = principal


def require(request: web.Request, scope: str) -> Principal:
    """The caller, provided its key holds ``scope``; otherwise 403 naming the scope."""
    principal = request[PRINCIPAL]
    if scope not in principal.scopes:
        raise ApiError(
            403, "missing_scope", f"this API key lacks the '{scope}' scope", {"scope": scope}
        )
    return principal
