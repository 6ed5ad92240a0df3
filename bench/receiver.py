"""A webhook receiver for benchmarks: answers 204 to every POST, as fast as it can."""

from __future__ import annotations

import sys

from aiohttp import web


async def hook(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=204)


if __name__ == "__main__":
    app = web.Application()
    app.router.add_post("/hook", hook)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
