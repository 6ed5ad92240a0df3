"""MCP methods: initialize, ping, tools, resources and prompts, answered for one caller."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version as package_version
from typing import Any, Final

import msgspec

from vigil_gateway.errors import ApiError
from vigil_gateway.mcp import catalog
from vigil_gateway.mcp.internal import Api
from vigil_gateway.mcp.protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    RESOURCE_NOT_FOUND,
    RpcError,
    error,
    is_request,
    negotiate,
    result,
    structured,
)
from vigil_gateway.mcp.tools import TOOLS, Document

log = logging.getLogger(__name__)

INSTRUCTIONS: Final = (
    "Vigil scans source code for vulnerabilities and leaked secrets. Start a scan with"
    " start_scan, poll get_scan until its status is completed or failed, then read findings"
    " with list_findings and get_finding and record verdicts with triage_finding."
)
CAPABILITIES: Final = {
    "tools": {"listChanged": False},
    "resources": {"listChanged": False},
    "prompts": {"listChanged": False},
}


@dataclass(frozen=True)
class Context:
    """Who is asking, through which API, in which protocol version."""

    api: Api
    version: str


def initialize(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The negotiated version and the ``initialize`` result."""
    version = negotiate(params.get("protocolVersion"))
    return version, {
        "protocolVersion": version,
        "capabilities": CAPABILITIES,
        "serverInfo": {"name": "vigil", "version": package_version("vigil-gateway")},
        "instructions": INSTRUCTIONS,
    }


async def answer(ctx: Context, message: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to a request; ``None`` for notifications and responses (nothing to say)."""
    if not is_request(message):
        return None
    params: dict[str, Any] = message.get("params") or {}
    try:
        return result(message["id"], await _dispatch(ctx, message["method"], params))
    except RpcError as exc:
        return error(message["id"], exc)


async def _dispatch(ctx: Context, method: str, params: dict[str, Any]) -> dict[str, Any]:
    if method == "initialize":
        raise RpcError(INVALID_REQUEST, "the session is already initialized")
    handler = _METHODS.get(method)
    if handler is None:
        raise RpcError(METHOD_NOT_FOUND, f"method not found: {method}")
    return await handler(ctx, params)


async def _ping(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {}


async def _list_tools(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"tools": [tool.describe(structured(ctx.version)) for tool in TOOLS.values()]}


async def _list_resources(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"resources": []}  # scans are reached through the templates, not enumerated


async def _list_templates(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"resourceTemplates": catalog.TEMPLATES}


async def _list_prompts(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"prompts": catalog.PROMPTS}


async def _get_prompt(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    arguments = params.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "arguments must be an object")
    return catalog.get_prompt(str(params.get("name")), arguments)


async def call_tool(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """``tools/call``: an unknown tool is a protocol error, a refused call a tool error."""
    tool = TOOLS.get(str(params.get("name")))
    arguments = params.get("arguments") or {}
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"unknown tool: {params.get('name')!r}")
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "arguments must be an object")
    started = time.perf_counter()
    try:
        value = await tool.call(ctx.api, tool.decode(arguments))
    except ApiError as exc:
        outcome = _tool_error(exc, ctx.version)
    else:
        outcome = _tool_answer(value, ctx.version)
    log.info(
        "mcp tool call",
        extra={"tool": tool.name, "is_error": outcome.get("isError", False),
               "ms": round((time.perf_counter() - started) * 1000, 1)},
    )  # fmt: skip
    return outcome


def _tool_answer(value: Any, version: str) -> dict[str, Any]:
    if isinstance(value, Document):
        outcome: dict[str, Any] = {"content": [{"type": "text", "text": value.text}]}
        if structured(version):
            outcome["structuredContent"] = value.structured
        return {**outcome, "isError": False}
    return _tool_result(value if isinstance(value, dict) else {"result": value}, version)


def _tool_result(value: dict[str, Any], version: str) -> dict[str, Any]:
    outcome: dict[str, Any] = {
        "content": [{"type": "text", "text": msgspec.json.encode(value).decode()}],
        "isError": False,
    }
    if structured(version):
        outcome["structuredContent"] = value
    return outcome


def _tool_error(exc: ApiError, version: str) -> dict[str, Any]:
    """The REST error (its status, code, message and details) as a tool error the model reads."""
    body = {"status": exc.status, "code": exc.code, "message": exc.message, "details": exc.details}
    outcome = _tool_result({"error": body}, version)
    outcome["isError"] = True
    return outcome


async def _read(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return await catalog.read_resource(ctx.api, str(params.get("uri")))
    except ApiError as exc:
        code = RESOURCE_NOT_FOUND if exc.status == 404 else INVALID_REQUEST
        raise RpcError(code, exc.message, {"code": exc.code, "details": exc.details}) from None


Method = Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]
_METHODS: Final[dict[str, Method]] = {
    "ping": _ping,
    "tools/list": _list_tools,
    "tools/call": call_tool,
    "resources/list": _list_resources,
    "resources/templates/list": _list_templates,
    "resources/read": _read,
    "prompts/list": _list_prompts,
    "prompts/get": _get_prompt,
}
