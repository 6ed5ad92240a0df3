"""JSON-RPC 2.0 as MCP uses it: message checks, answers, error codes and version negotiation."""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec

# Newest first. 2024-11-05 is left out: its clients speak the older HTTP+SSE transport.
SUPPORTED_VERSIONS: Final = ("2025-06-18", "2025-03-26")
LATEST_VERSION: Final = SUPPORTED_VERSIONS[0]
# Before 2025-06-18 a tool result had no ``structuredContent`` and tools no ``title``.
STRUCTURED_SINCE: Final = "2025-06-18"

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
RESOURCE_NOT_FOUND: Final = -32002  # the spec's code for resources/read of an unknown URI

RequestId = str | int


class JsonRpcMessage(msgspec.Struct, kw_only=True):
    """A JSON-RPC 2.0 message as posted to and answered by ``/v1/mcp`` (for the OpenAPI
    document; the transport checks messages itself to answer JSON-RPC errors)."""

    jsonrpc: Literal["2.0"]
    id: str | int | None = None
    method: str | None = None
    params: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class RpcError(Exception):
    """A JSON-RPC error to answer with: a standard code and a message for the caller."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def negotiate(requested: object) -> str:
    """The version to speak: the client's when supported, else our newest (the client decides)."""
    if isinstance(requested, str) and requested in SUPPORTED_VERSIONS:
        return requested
    return LATEST_VERSION


def structured(version: str) -> bool:
    """Whether ``version`` has ``structuredContent`` and tool titles (ISO dates sort as text)."""
    return version >= STRUCTURED_SINCE


def result(request_id: RequestId, value: dict[str, Any]) -> dict[str, Any]:
    """A success answer."""
    return {"jsonrpc": "2.0", "id": request_id, "result": value}


def error(request_id: RequestId | None, exc: RpcError) -> dict[str, Any]:
    """An error answer; ``id`` is null when the request's own id could not be read."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.data is not None:
        body["data"] = exc.data
    return {"jsonrpc": "2.0", "id": request_id, "error": body}


def valid_id(value: object) -> bool:
    """A JSON-RPC id as MCP allows it: a string or an integer (never null, never a bool)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check_message(message: object) -> dict[str, Any]:
    """The message if it is a JSON-RPC 2.0 request, notification or response; else -32600."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 message: 'jsonrpc' must be '2.0'")
    if "method" in message:
        if not isinstance(message["method"], str):
            raise RpcError(INVALID_REQUEST, "'method' must be a string")
        if "id" in message and not valid_id(message["id"]):
            raise RpcError(INVALID_REQUEST, "'id' must be a string or an integer")
        if not isinstance(message.get("params", {}), dict):
            raise RpcError(INVALID_REQUEST, "'params' must be an object")
    elif not ("id" in message and ("result" in message or "error" in message)):
        raise RpcError(INVALID_REQUEST, "a message needs a 'method', or an 'id' and a 'result'")
    return message


def is_request(message: dict[str, Any]) -> bool:
    """A request expects an answer; notifications and responses do not."""
    return "method" in message and "id" in message
