"""The streamable HTTP transport (MCP 2025-03-26 and 2025-06-18) on aiohttp, JSON answers only.

POST carries JSON-RPC messages and gets ``application/json`` back (202 with no body when it
held no request); ``initialize`` opens a session named in ``Mcp-Session-Id``; DELETE ends it;
GET answers 405 because the server sends nothing unprompted. Authentication and rate limits
are the ``/v1`` middlewares'.
"""

from __future__ import annotations

import json
from typing import Any, Final

import msgspec
from aiohttp import web
from yarl import URL

from vigil_gateway.appkeys import PRINCIPAL
from vigil_gateway.errors import ApiError
from vigil_gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from vigil_gateway.mcp.internal import Api
from vigil_gateway.mcp.protocol import (
    INVALID_REQUEST,
    PARSE_ERROR,
    SUPPORTED_VERSIONS,
    RpcError,
    check_message,
    error,
    is_request,
    result,
    valid_id,
)
from vigil_gateway.mcp.server import Context, answer, initialize
from vigil_gateway.mcp.sessions import MCP_SESSIONS, Session, open_sessions

PATH: Final = "/v1/mcp"
SESSION_HEADER: Final = "Mcp-Session-Id"
VERSION_HEADER: Final = "MCP-Protocol-Version"
# A 10 MiB inline archive is ~14 MiB of base64; anything larger is not a tool call.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024


def _rpc_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=msgspec.json.encode(body),
        content_type="application/json",
        headers=headers,
    )


class _Refused(Exception):
    """A transport-level refusal: an HTTP status with a JSON-RPC error body (id null)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.response = _rpc_response(status, error(None, RpcError(code, message)))


async def post(request: web.Request) -> web.StreamResponse:
    """``POST /v1/mcp``: one JSON-RPC message or a batch."""
    _check_origin(request)
    if IDEMPOTENCY_HEADER in request.headers:  # its middleware read the body: no clone then
        raise ApiError(
            400, "invalid_idempotency_key", f"{PATH} does not take an {IDEMPOTENCY_HEADER}"
        )
    api = Api(request.clone())  # before the body is read: aiohttp cannot clone after
    try:
        return await _post(request, api)
    except _Refused as refused:
        return refused.response


async def _post(request: web.Request, api: Api) -> web.Response:
    messages, batch = await _messages(request)
    if any(_as_dict(m).get("method") == "initialize" for m in messages):
        if batch:
            raise _Refused(400, INVALID_REQUEST, "initialize must not be part of a batch")
        return await _initialize(request, messages[0])
    session = await _session(request)
    ctx = Context(api, session.protocol_version)
    answers = [a for m in messages if (a := await _answer(ctx, m)) is not None]
    if not answers:
        return web.Response(status=202)
    if not batch and "error" in answers[0] and not is_request(_as_dict(messages[0])):
        return _rpc_response(400, answers[0])  # a malformed message, not a method error
    return _rpc_response(200, answers if batch else answers[0])


def _as_dict(message: Any) -> dict[str, Any]:
    return message if isinstance(message, dict) else {}


async def _messages(request: web.Request) -> tuple[list[Any], bool]:
    """The posted messages, and whether they came as a batch (an array)."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send JSON-RPC as application/json")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"MCP messages are limited to {MAX_BODY_BYTES}")
    try:
        payload = json.loads(await request.read())
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses
        raise _Refused(400, PARSE_ERROR, "the body is not valid JSON") from None
    if payload == []:
        raise _Refused(400, INVALID_REQUEST, "an empty batch")
    return (payload, True) if isinstance(payload, list) else ([payload], False)


async def _answer(ctx: Context, message: Any) -> dict[str, Any] | None:
    try:
        checked = check_message(message)
    except RpcError as exc:
        request_id = _as_dict(message).get("id")
        return error(request_id if valid_id(request_id) else None, exc)
    return await answer(ctx, checked)


async def _initialize(request: web.Request, message: Any) -> web.Response:
    try:
        checked = check_message(message)
    except RpcError as exc:
        raise _Refused(400, exc.code, exc.message) from None
    if not is_request(checked):
        raise _Refused(400, INVALID_REQUEST, "initialize is a request: give it an id")
    version, value = initialize(checked.get("params") or {})
    session_id = await request.app[MCP_SESSIONS].open(request[PRINCIPAL].key_id, version)
    return _rpc_response(200, result(checked["id"], value), {SESSION_HEADER: session_id})


async def _session(request: web.Request) -> Session:
    """The request's live session; 400 without one, 404 for one unknown or ended (the spec)."""
    session_id = request.headers.get(SESSION_HEADER)
    if not session_id:
        raise _Refused(400, INVALID_REQUEST, f"send {SESSION_HEADER} (from initialize)")
    session = await request.app[MCP_SESSIONS].find(session_id, request[PRINCIPAL].key_id)
    if session is None:
        raise _Refused(404, INVALID_REQUEST, "unknown or ended session: initialize again")
    given = request.headers.get(VERSION_HEADER)
    if given is not None and given not in SUPPORTED_VERSIONS:
        raise _Refused(400, INVALID_REQUEST, f"unsupported {VERSION_HEADER}: {given!r}")
    return session


def _check_origin(request: web.Request) -> None:
    """Refuse browser pages of other sites (the spec's DNS-rebinding defence)."""
    origin = request.headers.get("Origin")
    if origin and URL(origin).host_port_subcomponent != request.host:
        raise ApiError(403, "cross_origin_refused", "cross-origin MCP requests are not accepted")


async def delete(request: web.Request) -> web.StreamResponse:
    """``DELETE /v1/mcp``: end the session."""
    _check_origin(request)
    try:
        await _session(request)
    except _Refused as refused:
        return refused.response
    await request.app[MCP_SESSIONS].end(request.headers[SESSION_HEADER])
    return web.Response(status=204)


async def get(request: web.Request) -> web.StreamResponse:
    """``GET /v1/mcp``: no server-initiated stream is offered."""
    return web.Response(status=405, headers={"Allow": "POST, DELETE"})


def add_routes(app: web.Application) -> None:
    """Mount ``/v1/mcp``; the session store opens after the message bus."""
    app.router.add_post(PATH, post)
    app.router.add_get(PATH, get)
    app.router.add_delete(PATH, delete)
    app.on_startup.append(open_sessions)
