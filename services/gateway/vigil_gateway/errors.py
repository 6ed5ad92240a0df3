"""The one error shape of the API, and the middleware that renders every error in it.

Every error answers ``{"error": {"code", "message", "details", "request_id"}}``. Codes are
stable and documented in ``docs/errors.md``; messages are for people and may change.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from typing import Any, Final

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

REQUEST_ID_HEADER: Final = "X-Request-Id"
REQUEST_ID: Final = web.RequestKey("request_id", str)
_MAX_REQUEST_ID: Final = 128


# Request ids need to be unique, not secret: a random prefix per process and a counter cost
# no system call per request (uuid4 reads os.urandom every time).
_PREFIX: Final = uuid.uuid4().hex[:16]
_COUNTER: Final = itertools.count()


def request_id_of(request: web.Request) -> str:
    """The caller's ``X-Request-Id`` when it is short and printable (it reaches the logs),
    else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if 0 < len(given) <= _MAX_REQUEST_ID and given.isprintable():
        return given
    return f"{_PREFIX}{next(_COUNTER):016x}"


class ApiError(Exception):
    """An error the caller can act on: an HTTP status, a stable code and a precise message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    """A resource that does not exist, or belongs to another organisation (never 403)."""
    return ApiError(404, "not_found", f"{what} not found")


def invalid(message: str, **details: Any) -> ApiError:
    """A request the gateway cannot accept as written."""
    return ApiError(422, "invalid_request", message, details)


# aiohttp's own HTTP errors (unknown route, wrong method …) mapped onto our codes.
_HTTP_CODES: Final = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ErrorBody(msgspec.Struct):
    """The body of every error response."""

    code: str
    message: str
    request_id: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorResponse(msgspec.Struct):
    """``{"error": …}``: the envelope of every error response."""

    error: ErrorBody


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Render one error in the API's shape."""
    body = ErrorResponse(ErrorBody(code, message, request_id, details or {}))
    return web.Response(
        status=status,
        body=msgspec.json.encode(body),
        content_type="application/json",
        headers={REQUEST_ID_HEADER: request_id, **(headers or {})},
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every response a request id, and every error the API's shape."""
    request_id = request.get(REQUEST_ID) or request_id_of(request)
    try:
        response = await handler(request)
    except ApiError as exc:
        return error_response(
            exc.status, exc.code, exc.message, request_id, exc.details, exc.headers
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, exc.reason, request_id)
    except Exception:  # the one place that turns surprises into a 500
        log.exception("unhandled error", extra={"request_id": request_id, "path": request.path})
        message = "the server failed to handle the request; quote the request id to the operator"
        return error_response(500, "internal_error", message, request_id)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
