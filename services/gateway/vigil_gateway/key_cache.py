"""A per-process cache of authenticated keys, so a request costs no database round trip.

Revocation must take effect at once on every replica: revoking publishes the key's id on
``vigil.keys.revoked`` and every gateway evicts it. Entries also expire after a short TTL, a
backstop for a broadcast missed while NATS was unreachable. ``last_used_at`` is written at most
once a minute per key, off the request path.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from vigil_common.db import Pool
from vigil_common.subjects import KEYS_REVOKED
from vigil_gateway.keys import Principal, hash_key, lookup_key

log = logging.getLogger(__name__)

TTL_SECONDS: Final = 30.0
TOUCH_EVERY_SECONDS: Final = 60.0
MAX_ENTRIES: Final = 10_000


class Revoked(msgspec.Struct, frozen=True):
    """The broadcast saying a key no longer authenticates."""

    key_id: uuid.UUID


@dataclass
class _Entry:
    principal: Principal
    cached_at: float
    touched_at: float = field(default=0.0)


class KeyCache:
    """Resolves presented keys to principals, from memory when it can."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()

    async def principal(self, key: str) -> Principal | None:
        """The principal of ``key``, or ``None`` if unknown, revoked or expired."""
        digest = hash_key(key)
        now = time.monotonic()
        entry = self._entries.get(digest)
        if entry is None or now - entry.cached_at > TTL_SECONDS:
            principal = await lookup_key(self.pool, digest)
            if principal is None:
                self._entries.pop(digest, None)
                return None
            entry = self._store(digest, principal, now)
        if entry.principal.expired():
            return None
        self._touch(entry, now)
        return entry.principal

    def _store(self, digest: bytes, principal: Principal, now: float) -> _Entry:
        entry = _Entry(principal, now)
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return entry

    def _touch(self, entry: _Entry, now: float) -> None:
        if now - entry.touched_at < TOUCH_EVERY_SECONDS:
            return
        entry.touched_at = now
        task = asyncio.create_task(self._write_last_used(entry.principal.key_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _write_last_used(self, key_id: uuid.UUID) -> None:
        await self.pool.execute("UPDATE api_keys SET last_used_at = now() WHERE id = $1", key_id)

    def evict(self, key_id: uuid.UUID) -> None:
        """Forget every cached entry of ``key_id``."""
        for digest in [d for d, e in self._entries.items() if e.principal.key_id == key_id]:
            del self._entries[digest]

    async def listen(self, nc: NATS) -> Subscription:
        """Evict keys as their revocation is broadcast."""

        async def on_revoked(msg: Msg) -> None:
            try:
                self.evict(msgspec.json.decode(msg.data, type=Revoked).key_id)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("ignored a malformed key revocation message")

        return await nc.subscribe(KEYS_REVOKED, cb=on_revoked)

    async def close(self) -> None:
        """Wait for pending ``last_used_at`` writes."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


async def broadcast_revoked(nc: NATS, key_id: uuid.UUID) -> None:
    """Tell every gateway replica (this one included) that ``key_id`` is revoked."""
    await nc.publish(KEYS_REVOKED, msgspec.json.encode(Revoked(key_id)))
    await nc.flush(timeout=5)
