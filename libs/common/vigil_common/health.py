"""``/healthz``, ``/readyz`` and ``/metrics``: the gateway mounts them, workers serve them alone.

``/healthz`` says the process is alive; ``/readyz`` runs the readiness checks (database,
NATS, object store) and answers 503 naming the first that fails.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]
CHECKS: web.AppKey[Mapping[str, ReadinessCheck]] = web.AppKey("readiness_checks")


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: every dependency answers."""
    for name, check in request.app[CHECKS].items():
        try:
            await check()
        except Exception as exc:  # any failure means not ready; the probe must answer
            log.warning("not ready: %s: %s", name, type(exc).__name__)
            return web.json_response({"status": "unavailable", "failing": name}, status=503)
    return web.json_response({"status": "ready"})


async def metrics_view(_request: web.Request) -> web.Response:
    """Prometheus text exposition of this process's metrics."""
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_health_routes(app: web.Application, checks: Mapping[str, ReadinessCheck]) -> None:
    """Mount the three endpoints on ``app``."""
    app[CHECKS] = checks
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)


async def serve_health(
    host: str, port: int, checks: Mapping[str, ReadinessCheck]
) -> tuple[web.AppRunner, int]:
    """Serve the endpoints on a side port (0 picks a free one); return the runner and port."""
    app = web.Application()
    add_health_routes(app, checks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)
