"""Retries: 429/503 honour Retry-After, connection errors are retried only when repeating is
safe, and a creating POST keeps its Idempotency-Key across retries, so the gateway creates once.
The misbehaving servers are small local aiohttp (or raw asyncio) servers on loopback."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conftest import MakeGatewayClient, Tenant
from vigil_client import RetryPolicy, VigilClient, VigilError
from vigil_client.transport import retry_after_seconds

MakeServer = Callable[[web.Application], Awaitable[TestServer]]
ERROR = {
    "error": {"code": "rate_limited", "message": "slow down", "request_id": "r1", "details": {}}
}


def scripted(answers: list[web.Response], seen: list[web.Request]) -> web.Application:
    """An app answering each request with the next scripted response."""

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        return answers.pop(0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def client_of(url: str, sleeps: list[float], retries: int = 4) -> VigilClient:
    return VigilClient(url, "vgl_k", retry=RetryPolicy(max_retries=retries), sleep=sleeps.append)


async def test_429_then_200_waits_retry_after_and_succeeds(aiohttp_server: MakeServer) -> None:
    seen: list[web.Request] = []
    answers = [
        web.json_response(ERROR, status=429, headers={"Retry-After": "2"}),
        web.json_response({"openapi": "3.1.0"}),
    ]
    server = await aiohttp_server(scripted(answers, seen))
    sleeps: list[float] = []
    spec = await asyncio.to_thread(client_of(str(server.make_url("")), sleeps).openapi)
    assert spec == {"openapi": "3.1.0"}
    assert sleeps == [2.0]
    assert len(seen) == 2


async def test_503_is_retried_and_the_last_answer_raises_the_apis_error(
    aiohttp_server: MakeServer,
) -> None:
    seen: list[web.Request] = []
    answers = [web.json_response(ERROR, status=503) for _ in range(3)]
    server = await aiohttp_server(scripted(answers, seen))
    sleeps: list[float] = []
    vigil = client_of(str(server.make_url("")), sleeps, retries=2)
    with pytest.raises(VigilError) as failed:
        await asyncio.to_thread(vigil.me)
    assert (failed.value.status, failed.value.code, failed.value.message) == (
        503, "rate_limited", "slow down",
    )  # fmt: skip
    assert len(seen) == 3 and len(sleeps) == 2
    assert all(0 < s <= 60 for s in sleeps)  # backoff without Retry-After


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    assert RetryPolicy(max_wait=10).delay(0, 3600) == 10  # a huge Retry-After is capped


async def _dropping_server(connections: list[int]) -> tuple[asyncio.Server, str]:
    """Reads each request and closes the connection without answering."""

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_a_dropped_connection_is_retried_for_gets_but_not_for_a_plain_post() -> None:
    connections: list[int] = []
    server, url = await _dropping_server(connections)
    sleeps: list[float] = []
    vigil = client_of(url, sleeps, retries=2)
    with pytest.raises(VigilError, match="connection_error"):
        await asyncio.to_thread(lambda: vigil.get_scan("s"))
    assert len(connections) == 3
    connections.clear()
    with pytest.raises(VigilError, match="connection_error"):
        await asyncio.to_thread(lambda: vigil.cancel_scan("s"))  # not idempotent
    assert len(connections) == 1
    server.close()


async def test_a_refused_connection_is_retried_then_reported() -> None:
    server, url = await _dropping_server([])
    server.close()
    await server.wait_closed()  # nothing listens on the port any more
    sleeps: list[float] = []
    with pytest.raises(VigilError) as failed:
        await asyncio.to_thread(client_of(url, sleeps, retries=3).me)
    assert failed.value.code == "connection_error" and failed.value.status is None
    assert len(sleeps) == 3


def lossy_proxy(upstream: str, keys: list[str], first: list[Any]) -> web.Application:
    """Forwards to the gateway; the first POST's answer is lost (a 503 comes back instead)."""

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, upstream + request.path_qs, headers=headers,
                data=await request.read(),
            ) as answer,
        ):  # fmt: skip
            body = await answer.read()
            replayed = answer.headers.get("Idempotent-Replayed")
        if request.method == "POST":
            keys.append(request.headers.get("Idempotency-Key", ""))
            if len(keys) == 1:
                first.append(body)
                return web.json_response(ERROR, status=503)
        response = web.Response(body=body, status=answer.status, content_type="application/json")
        if replayed:
            response.headers["Idempotent-Replayed"] = replayed
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def test_a_retried_create_reuses_its_idempotency_key_and_creates_once(
    gateway_client: MakeGatewayClient, tenant: Tenant, aiohttp_server: MakeServer
) -> None:
    gateway = await gateway_client()
    keys: list[str] = []
    first: list[Any] = []
    proxy = await aiohttp_server(lossy_proxy(str(gateway.make_url("")).rstrip("/"), keys, first))
    sleeps: list[float] = []
    vigil = VigilClient(str(proxy.make_url("")), tenant.key, sleep=sleeps.append)
    scan = await asyncio.to_thread(lambda: vigil.upload_archive(b"PK\x05\x06" + b"\0" * 18))
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    assert f'"id":"{scan.id}"' in first[0].decode().replace(" ", "")  # the replayed scan
    listed = await asyncio.to_thread(lambda: list(vigil.iter_scans()))
    assert [s.id for s in listed] == [scan.id]
    again = await asyncio.to_thread(lambda: vigil.upload_archive(b"PK\x05\x06" + b"\0" * 18))
    assert again.id != scan.id and keys[2] != keys[0]  # a new call, a new key
