"""Tool calls replayed in process through the v1 handlers: one copy of every check and query.

An MCP tool is the REST endpoint it names, called with the MCP request's principal, so scopes,
tenancy, validation, SQL and error codes are the API's own. Each call spends a token of the
bucket its REST request would (``ratelimit.bucket_of``).

aiohttp has no public way to hand a handler a request for another route, so this module sets
the two attributes aiohttp's own dispatch sets (``_match_info``) and caches (``_read_bytes``)
on a clone; ``tests/test_mcp.py`` exercises every route used.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from vigil_gateway.errors import invalid
from vigil_gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from vigil_gateway.ratelimit import spend_token

_DROPPED_HEADERS: Final = ("Content-Type", "Content-Length", IDEMPOTENCY_HEADER)


class Api:
    """The v1 API as seen by one MCP request's caller."""

    def __init__(self, template: web.Request) -> None:
        # Cloned before the MCP body was read: aiohttp refuses to clone a request after that.
        self._template = template

    @property
    def app(self) -> web.Application:
        """The gateway application (its settings and object store)."""
        return self._template.app

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str | None] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON answer of ``method path``; its errors raise ``ApiError``."""
        response = await self.respond(method, path, query=query, body=body)
        if response.status == 204:
            return None
        return msgspec.json.decode(_bytes(response))

    async def fetch(self, path: str, query: dict[str, str | None]) -> tuple[str, bytes]:
        """The content type and body of a GET whose answer is not JSON (a report)."""
        response = await self.respond("GET", path, query=query)
        return response.content_type, _bytes(response)

    async def respond(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str | None] | None = None,
        body: dict[str, Any] | None = None,
    ) -> web.Response:
        """The v1 handler's response to ``method path`` for this caller."""
        sub = self._request(method, path, _query(query), body)
        match = await sub.app.router.resolve(sub)
        match.add_app(sub.app)
        match.freeze()
        sub._match_info = match
        await spend_token(sub)  # the bucket its REST request spends
        response = await match.handler(sub)
        if not isinstance(response, web.Response):  # every v1 handler answers in one piece
            raise TypeError(f"{method} {path} streamed its answer")
        return response

    def _request(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None
    ) -> web.Request:
        headers = CIMultiDict(self._template.headers)
        for name in _DROPPED_HEADERS:
            headers.popall(name, None)
        raw = b"" if body is None else msgspec.json.encode(body)
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(raw))
        sub = self._template.clone(
            method=method, rel_url=URL(path).with_query(query), headers=headers
        )
        sub._read_bytes = raw  # what request.read() returns: the body is already in hand
        return sub


def _bytes(response: web.Response) -> bytes:
    return response.body if isinstance(response.body, bytes) else b""


def _query(query: dict[str, str | None] | None) -> dict[str, str]:
    """The parameters that are set; NUL refused as the REST middleware refuses it."""
    kept = {name: value for name, value in (query or {}).items() if value is not None}
    for name, value in kept.items():
        if "\x00" in value:
            raise invalid(f"{name} must not contain NUL characters", field=name)
    return kept
