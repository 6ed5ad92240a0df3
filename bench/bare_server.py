"""The floor any real read pays: an aiohttp handler doing one asyncpg primary-key SELECT."""

from __future__ import annotations

import os
import sys

import asyncpg
from aiohttp import web


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """Same pool behaviour as Vigil's (vigil_common.db): no reset round trip on release."""


async def _pool(app: web.Application) -> object:
    app["pool"] = await asyncpg.create_pool(
        os.environ["VIGIL_DATABASE_URL"], max_size=10, reset=_no_reset
    )
    yield
    await app["pool"].close()


async def scan(request: web.Request) -> web.Response:
    row = await request.app["pool"].fetchrow(
        "SELECT id, status FROM scans WHERE id = $1", request.match_info["scan_id"]
    )
    return web.json_response({"id": str(row["id"]), "status": row["status"]})


def main() -> None:
    app = web.Application()
    app.cleanup_ctx.append(_pool)
    app.router.add_get("/v1/scans/{scan_id}", scan)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
