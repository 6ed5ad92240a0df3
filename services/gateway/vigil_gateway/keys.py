"""API keys: generation, hashing and lookup. Keys are shown once and stored as SHA-256 only."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from typing import Final, Literal, get_args

import asyncpg
import msgspec

from vigil_common.db import Pool

KEY_PREFIX: Final = "vgl_"
DISPLAY_CHARS: Final = 12


DEV_ORGANISATION: Final = "dev"


Scope = Literal[
    "scans:read",
    "scans:write",
    "scans:manage",
    "findings:write",
    "reports:read",
    "webhooks:manage",
    "keys:manage",
]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
DEFAULT_SCOPES: Final[tuple[Scope, ...]] = ("scans:read", "reports:read")


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the key and the one organisation it belongs to."""

    key_id: uuid.UUID
    org_id: uuid.UUID
    scopes: frozenset[str]
    expires_at: dt.datetime | None = None

    def expired(self) -> bool:
        """Whether the key has passed its expiry."""
        return self.expires_at is not None and self.expires_at <= dt.datetime.now(dt.UTC)


def generate_key() -> str:
    """A new key: ``vgl_`` and 43 base64url characters (256 random bits)."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return KEY_PREFIX + raw


def hash_key(key: str) -> bytes:
    """The only form of a key that is stored."""
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    """The part of a key safe to show in listings, so people can tell keys apart."""
    return key[:DISPLAY_CHARS]


async def lookup_key(pool: Pool, digest: bytes) -> Principal | None:
    """The principal of a key by its hash, unless revoked (expiry is checked by the caller)."""
    row = await pool.fetchrow(
        "SELECT id, org_id, scopes, expires_at FROM api_keys"
        " WHERE key_hash = $1 AND revoked_at IS NULL",
        digest,
    )
    if row is None:
        return None
    return Principal(row["id"], row["org_id"], frozenset(row["scopes"]), row["expires_at"])


async def key_by_hash(pool: Pool, digest: bytes) -> asyncpg.Record | None:
    """The listing fields of the key with this hash."""
    return await pool.fetchrow(
        "SELECT id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at"
        " FROM api_keys WHERE key_hash = $1",
        digest,
    )


async def key_by_id(pool: Pool, key_id: uuid.UUID) -> asyncpg.Record | None:
    """The listing fields of one key."""
    return await pool.fetchrow(
        "SELECT id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at"
        " FROM api_keys WHERE id = $1",
        key_id,
    )


async def keys_of(pool: Pool, org_id: uuid.UUID, limit: int) -> list[asyncpg.Record]:
    """The listing fields of the organisation's keys, newest first."""
    return await pool.fetch(
        "SELECT id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at"
        " FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        org_id,
        limit,
    )


async def revoke_key(pool: Pool, org_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Revoke one of the organisation's keys; False if it has no such key."""
    row = await pool.fetchrow(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
        " WHERE id = $1 AND org_id = $2 RETURNING id",
        key_id,
        org_id,
    )
    return row is not None


async def ensure_organisation(pool: Pool, name: str) -> uuid.UUID:
    """The id of organisation ``name``, creating it if needed."""
    org_id: uuid.UUID = await pool.fetchval(
        "INSERT INTO organisations (name) VALUES ($1)"
        " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        name,
    )
    return org_id


async def create_key(
    pool: Pool,
    org_id: uuid.UUID,
    name: str,
    scopes: tuple[str, ...],
    *,
    key: str | None = None,
    expires_at: dt.datetime | None = None,
) -> str | None:
    """Store a key (a new random one unless ``key`` is given) and return it, shown this once.

    Returns ``None`` when ``key`` was given and already exists: creation is idempotent.
    """
    key = key or generate_key()
    created = await pool.fetchval(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, scopes, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_hash) DO NOTHING RETURNING id",
        org_id,
        name,
        display_prefix(key),
        hash_key(key),
        list(scopes),
        expires_at,
    )
    return key if created is not None else None


async def ensure_bootstrap_key(pool: Pool, key: str) -> None:
    """Make ``key`` a key of the dev organisation with every scope (``VIGIL_BOOTSTRAP_API_KEY``)."""
    org_id = await ensure_organisation(pool, DEV_ORGANISATION)
    await create_key(pool, org_id, "bootstrap", SCOPES, key=key)
