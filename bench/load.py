"""A closed-loop HTTP load generator: N connections, each sending again when answered."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def worker(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], until: float,
    latencies: list[float], statuses: dict[int, int],
) -> None:  # fmt: skip
    while time.perf_counter() < until:
        started = time.perf_counter()
        async with session.get(url, headers=headers) as response:
            await response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        latencies.append(time.perf_counter() - started)


async def run(url: str, key: str, connections: int, seconds: float) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = time.perf_counter() + 1
        await asyncio.gather(*(worker(session, url, headers, warm, [], {}) for _ in range(4)))
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(worker(session, url, headers, until, latencies, statuses) for _ in range(connections))
        )
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "statuses": statuses,
    }


if __name__ == "__main__":
    url, key, connections, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    print(json.dumps(asyncio.run(run(url, key, connections, seconds))))
