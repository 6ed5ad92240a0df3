"""The gateway application: ``create_app(settings)`` for tests and ``main()`` for the process."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import Counter, Histogram

from vigil_common import bus, metrics
from vigil_common.config import Settings, SettingsError, load_settings
from vigil_common.db import connect_pool
from vigil_common.health import ReadinessCheck, add_health_routes
from vigil_common.logs import setup_logging
from vigil_common.storage import ObjectStore
from vigil_gateway import views, webhooks_api
from vigil_gateway.appkeys import (
    JETSTREAM,
    KEY_CACHE,
    NATS_CLIENT,
    POOL,
    PRINCIPAL,
    RATE_LIMITER,
    SETTINGS,
    STORE,
)
from vigil_gateway.checks import request_checks_middleware
from vigil_gateway.errors import REQUEST_ID, error_middleware, request_id_of
from vigil_gateway.key_cache import KeyCache
from vigil_gateway.keys import ensure_bootstrap_key
from vigil_gateway.lifecycle import retention_loop
from vigil_gateway.ratelimit import RateLimiter, add_rate_headers
from vigil_gateway.scan_cache import SCAN_ANSWERS, ScanAnswers

log = logging.getLogger(__name__)


access_log = logging.getLogger("vigil_gateway.access")


@functools.cache
def _route_metrics(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The metric children of one route and status (labels() locks and looks up each time)."""
    return (
        metrics.HTTP_REQUESTS.labels(method, route, str(status)),
        metrics.HTTP_SECONDS.labels(method, route),
    )


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request its id; count, time and log it by route pattern (bounded labels).

    The access line carries the path without its query and the key's id, never the key.
    """
    request[REQUEST_ID] = request_id_of(request)
    started = time.perf_counter()
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        seconds = time.perf_counter() - started
        counter, timer = _route_metrics(request.method, route, status)
        counter.inc()
        timer.observe(seconds)
        principal = request.get(PRINCIPAL)
        access_log.info(
            "%s %s %d", request.method, request.path, status,
            extra={
                "request_id": request[REQUEST_ID], "route": route, "ms": round(seconds * 1000, 1),
                "key_id": str(principal.key_id) if principal else None,
            },
        )  # fmt: skip


async def _database(app: web.Application) -> AsyncIterator[None]:
    app[POOL] = await connect_pool(app[SETTINGS])
    bootstrap_key = app[SETTINGS].bootstrap_api_key
    if bootstrap_key:
        await ensure_bootstrap_key(app[POOL], bootstrap_key)
    yield
    await app[POOL].close()


async def _object_store(app: web.Application) -> AsyncIterator[None]:
    app[STORE] = ObjectStore(app[SETTINGS])
    await app[STORE].ensure_bucket()
    yield


async def _message_bus(app: web.Application) -> AsyncIterator[None]:
    nc, js = await bus.connect(app[SETTINGS], "gateway")
    await bus.ensure_stream(js)
    app[NATS_CLIENT], app[JETSTREAM] = nc, js
    app[KEY_CACHE] = KeyCache(app[POOL])
    app[RATE_LIMITER] = RateLimiter(app[POOL], app[SETTINGS])
    await app[RATE_LIMITER].forget_old_windows()
    revocations = await app[KEY_CACHE].listen(nc)
    yield
    await revocations.unsubscribe()
    await app[KEY_CACHE].close()
    await nc.drain()


def create_app(settings: Settings) -> web.Application:
    """Build the gateway; its connections open on startup and close on cleanup."""
    app = web.Application(
        middlewares=[
            observe_middleware,
            error_middleware,
            request_checks_middleware,
        ],
        client_max_size=settings.max_upload_bytes,
    )
    app[SETTINGS] = settings
    app[SCAN_ANSWERS] = ScanAnswers()
    app.on_response_prepare.append(add_rate_headers)
    app.cleanup_ctx.extend([_database, _object_store, _message_bus, retention_loop])
    add_health_routes(app, _readiness_checks(app))
    views.add_routes(app)
    webhooks_api.add_routes(app)
    return app


def _readiness_checks(app: web.Application) -> dict[str, ReadinessCheck]:
    # The connections open at startup, after this runs: look them up at check time.
    async def database() -> None:
        await app[POOL].fetchval("SELECT 1")

    async def nats_connection() -> None:
        if not app[NATS_CLIENT].is_connected:
            raise ConnectionError("NATS is not connected")

    async def object_store() -> None:
        await app[STORE].check()

    return {"database": database, "nats": nats_connection, "object_store": object_store}


SHUTDOWN_TIMEOUT_SECONDS: Final = 8.0


def main() -> None:
    """Run the gateway until SIGTERM or SIGINT."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"vigil-gateway: {exc}")
    setup_logging("gateway", settings.log_level, settings.log_format)
    web.run_app(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log=None,
        # In-flight requests get this long to finish after SIGTERM (aiohttp's default is 60 s),
        # inside the 10 s the local supervisor and the 30 s Kubernetes wait before killing.
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        print=lambda *_: log.info(
            "gateway listening",
            extra={"host": settings.gateway_host, "port": settings.gateway_port},
        ),
    )
