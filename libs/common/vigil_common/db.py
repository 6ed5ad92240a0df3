"""PostgreSQL access: one asyncpg pool per process, with JSON columns decoded by msgspec."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
import asyncpg.pool
import msgspec

from vigil_common.config import Settings

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
# Anything that runs a query: the pool itself, or a connection acquired from it.
Executor: TypeAlias = (
    "asyncpg.Pool[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            encoder=lambda value: msgspec.json.encode(value).decode(),
            decoder=msgspec.json.decode,
            schema="pg_catalog",
        )


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset on release (``RESET ALL``, ``UNLISTEN *`` … : a round trip).

    Vigil leaves no session state on pooled connections: no LISTEN, no session settings,
    cursors closed by their transactions, and the one advisory lock taken on a pooled
    connection (the retention sweep) is released in a ``finally``.
    """


async def connect_pool(settings: Settings, *, min_size: int = 1) -> Pool:
    """Open the pool every handler shares; sized by ``VIGIL_DATABASE_POOL_SIZE``."""
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=min(min_size, settings.database_pool_size),
        max_size=settings.database_pool_size,
        init=_init_connection,
        reset=_keep_session,
    )
