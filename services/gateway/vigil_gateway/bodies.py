"""Decoding request bodies and query parameters into msgspec Structs, with 422s that say where."""

from __future__ import annotations

import re
import uuid
from typing import Final, TypeVar

import msgspec
from aiohttp import web

from vigil_gateway.errors import ApiError, invalid, not_found

T = TypeVar("T")

_PATH: Final = re.compile(r" - at `\$\.?([^`]*)`$")
_UNKNOWN: Final = re.compile(r"unknown field `([^`]*)`")
MAX_JSON_BYTES: Final = 1024 * 1024


async def decode_json(request: web.Request, kind: type[T]) -> T:
    """The request's JSON body as ``kind``; 415 unless JSON, 422 naming the bad field."""
    if request.content_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send a JSON body with Content-Type: application/json (got {request.content_type!r})",
        )
    too_large = ApiError(
        413, "payload_too_large", f"JSON bodies are limited to {MAX_JSON_BYTES} bytes"
    )
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise too_large
    raw = await request.read()  # cached by aiohttp: the idempotency middleware may have read it
    if len(raw) > MAX_JSON_BYTES:
        raise too_large
    return decode_bytes(raw, kind)


def refuse_nul(request: web.Request) -> None:
    """422 for a NUL character in a query parameter: PostgreSQL cannot store or compare one."""
    if not request.query_string:
        return
    for name, value in request.query.items():
        if "\x00" in value or "\x00" in name:
            raise invalid(f"{name} must not contain NUL characters", field=name)


def decode_bytes(raw: bytes, kind: type[T]) -> T:
    """Decode JSON ``raw`` as ``kind`` or raise a 422 with the field and the reason."""
    if b"\\u0000" in raw:  # a JSON-escaped NUL: PostgreSQL text cannot hold it
        raise invalid("strings must not contain NUL characters (\\u0000)")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise _field_error(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise invalid(f"the body is not valid JSON: {exc}") from None


def _field_error(message: str) -> ApiError:
    match = _PATH.search(message)
    reason = _PATH.sub("", message)
    prefix = match.group(1) if match else ""
    unknown = _UNKNOWN.search(reason)
    if unknown:  # msgspec names the object, not the field: point at the field itself
        prefix = ".".join(filter(None, (prefix, unknown.group(1))))
    field = prefix or "body"
    return invalid(f"{field}: {reason}", field=field, reason=reason)


def path_id(request: web.Request, name: str, what: str) -> uuid.UUID:
    """The UUID in the path's ``{name}``; a malformed one is a ``what`` that does not exist."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise not_found(what) from None


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``; 422 otherwise."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer", field=name) from None
    if not low <= value <= high:
        raise invalid(f"{name} must be between {low} and {high}", field=name)
    return value


def query_list(request: web.Request, name: str, allowed: frozenset[str] | None = None) -> list[str]:
    """A comma-separated (or repeated) query parameter, each value checked against ``allowed``."""
    values = [v for raw in request.query.getall(name, []) for v in raw.split(",") if v]
    if allowed is not None:
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise invalid(
                f"{name} has unknown values {unknown}; allowed: {sorted(allowed)}", field=name
            )
    return values
