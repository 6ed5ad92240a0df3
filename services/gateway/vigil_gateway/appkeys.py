"""Typed keys for what the gateway keeps on its application and requests, declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.storage import ObjectStore
from vigil_gateway.key_cache import KeyCache
from vigil_gateway.keys import Principal

if TYPE_CHECKING:  # ratelimit imports this module
    from vigil_gateway.ratelimit import RateLimiter

SETTINGS: Final = web.AppKey("settings", Settings)
POOL: Final = web.AppKey("pool", Pool)
STORE: Final = web.AppKey("store", ObjectStore)
NATS_CLIENT: Final = web.AppKey("nats", NATS)
JETSTREAM: Final = web.AppKey("jetstream", JetStreamContext)
KEY_CACHE: Final = web.AppKey("key_cache", KeyCache)
RATE_LIMITER: Final[web.AppKey[RateLimiter]] = web.AppKey("rate_limiter")

PRINCIPAL: Final = web.RequestKey("principal", Principal)
