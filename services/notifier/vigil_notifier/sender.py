"""One HTTP attempt of a webhook delivery, through the SSRF guard.

The URL is checked again at send time (an endpoint may have been created when its name resolved
elsewhere), the connection goes to a checked address, redirects are not followed, and at most
64 KiB of the response is read: the body is never stored, only drained so the connection can be
reused.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

import aiohttp

from vigil_common.netguard import BlockedDestination, check_url
from vigil_notifier.policy import Outcome, parse_retry_after

MAX_RESPONSE_BYTES: Final = 64 * 1024
MAX_ERROR_CHARS: Final = 500


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    allow_private: bool,
) -> Outcome:
    """POST ``body`` to ``url`` once and say what happened; never raises for network trouble."""
    started = time.perf_counter()
    try:
        checked = check_url(url, allow_private)
        async with session.post(
            checked, data=body, headers=dict(headers), allow_redirects=False
        ) as response:
            await response.content.read(MAX_RESPONSE_BYTES)
            return _answered(response, started)
    except BlockedDestination as exc:
        return _failed(started, f"refused: {exc.reason}")
    except TimeoutError:
        return _failed(started, "timed out")
    except aiohttp.ClientError as exc:
        return _failed(started, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _answered(response: aiohttp.ClientResponse, started: float) -> Outcome:
    ok = 200 <= response.status < 300
    return Outcome(
        status=response.status,
        latency_ms=_elapsed_ms(started),
        error=None if ok else f"HTTP {response.status} {response.reason or ''}".strip(),
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _failed(started: float, error: str) -> Outcome:
    return Outcome(status=None, latency_ms=_elapsed_ms(started), error=error)
