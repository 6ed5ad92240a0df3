"""MCP sessions in a JetStream key-value bucket, so every gateway replica knows every session.

A session records the key that opened it and the protocol version negotiated. It holds no
credentials: every request is still authenticated by its API key, and a session presented
with another key is unknown. Sessions end on DELETE or a day after ``initialize``.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Final

import msgspec
from aiohttp import web
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, KeyNotFoundError
from nats.js.kv import KeyValue

from vigil_common.subjects import MCP_SESSIONS_BUCKET
from vigil_gateway.appkeys import JETSTREAM

SESSION_TTL_SECONDS: Final = 24 * 3600
# token_urlsafe(24): 32 characters of [A-Za-z0-9_-], all valid in a KV key and a header.
_SESSION_ID: Final = re.compile(r"[A-Za-z0-9_-]{32}")


class Session(msgspec.Struct, frozen=True):
    """What a session id stands for."""

    key_id: uuid.UUID
    protocol_version: str


class SessionStore:
    """Open, find and end sessions; a replica needs no memory of its own."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    @classmethod
    async def open_bucket(cls, js: JetStreamContext) -> SessionStore:
        """Create the bucket, or bind to it when it exists (with any configuration)."""
        try:
            kv = await js.create_key_value(
                bucket=MCP_SESSIONS_BUCKET, ttl=SESSION_TTL_SECONDS, history=1
            )
        except BadRequestError:  # made by a version with other settings: use it as it is
            kv = await js.key_value(MCP_SESSIONS_BUCKET)
        return cls(kv)

    async def open(self, key_id: uuid.UUID, protocol_version: str) -> str:
        """A new session id for ``key_id``."""
        session_id = secrets.token_urlsafe(24)
        await self._kv.put(session_id, msgspec.json.encode(Session(key_id, protocol_version)))
        return session_id

    async def find(self, session_id: str, key_id: uuid.UUID) -> Session | None:
        """The live session of this key with this id, or ``None``."""
        if not _SESSION_ID.fullmatch(session_id):
            return None
        try:
            entry = await self._kv.get(session_id)
        except KeyNotFoundError:  # never opened, ended, or expired
            return None
        session = msgspec.json.decode(entry.value or b"null", type=Session | None)
        return session if session is not None and session.key_id == key_id else None

    async def end(self, session_id: str) -> None:
        """Forget the session: its id answers 404 from now on, on every replica."""
        await self._kv.delete(session_id)


MCP_SESSIONS: Final[web.AppKey[SessionStore]] = web.AppKey("mcp_sessions")


async def open_sessions(app: web.Application) -> None:
    """``on_startup``, after the message bus is connected."""
    app[MCP_SESSIONS] = await SessionStore.open_bucket(app[JETSTREAM])
