"""The SSRF guard refuses every internal destination, however it is spelled.

Only literal addresses and loopback names are resolved here; nothing is ever contacted except
a server this test runs on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress

import pytest
from aiohttp import web

from vigil_common.netguard import (
    BlockedDestination,
    address_problem,
    check_url,
    guarded_session,
    resolve_checked,
)

BLOCKED_URLS = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0x7f.0.0.1/",
    "https://017700000001/",
    "https://0177.0.0.1/",
    "https://localhost/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[0:0:0:0:0:ffff:169.254.169.254]/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/",
    "https://100.100.100.200/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://0.0.0.0/",
    "https://[::]/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
async def test_internal_destinations_are_refused(url: str) -> None:
    with pytest.raises(BlockedDestination) as refused:
        parsed = check_url(url, allow_private=False)
        await resolve_checked(parsed.host or "", 443, allow_private=False)
    assert "not allowed" in refused.value.reason


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/x", "file:///etc/passwd", "http://93.184.215.14/", "gopher://x/", "//x"],
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(BlockedDestination, match="must use https"):
        check_url(url, allow_private=False)


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(BlockedDestination, match="credentials"):
        check_url("https://user:token@93.184.215.14/", allow_private=False)


async def test_public_addresses_pass() -> None:
    parsed = check_url("https://93.184.215.14/hook", allow_private=False)
    assert await resolve_checked(parsed.host or "", 443, False) == [
        ipaddress.ip_address("93.184.215.14")
    ]


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "::1", "::ffff:192.168.0.1"])
def test_allowing_private_networks_admits_loopback_and_private(ip: str) -> None:
    assert address_problem(ipaddress.ip_address(ip), allow_private=True) is None


@pytest.mark.parametrize("ip", ["169.254.169.254", "fd00:ec2::254", "fe80::1", "224.0.0.1"])
def test_metadata_and_link_local_stay_refused_when_private_is_allowed(ip: str) -> None:
    assert address_problem(ipaddress.ip_address(ip), allow_private=True) is not None


def test_http_is_accepted_only_with_private_networks() -> None:
    assert check_url("http://127.0.0.1:9000/x", allow_private=True).port == 9000
    with pytest.raises(BlockedDestination):
        check_url("http://93.184.215.14/", allow_private=False)


async def test_the_guarded_session_refuses_names_that_resolve_inside() -> None:
    async with guarded_session(allow_private=False) as session:
        with pytest.raises(BlockedDestination, match="localhost resolves to a loopback"):
            await session.get("http://localhost:9/", allow_redirects=False)


async def test_the_guarded_session_reaches_loopback_when_allowed(unused_tcp_port: int) -> None:
    app = web.Application()

    async def pong(_request: web.Request) -> web.Response:
        return web.Response(text="pong")

    app.router.add_get("/", pong)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        async with (
            guarded_session(allow_private=True) as session,
            session.get(f"http://localhost:{unused_tcp_port}/", allow_redirects=False) as r,
        ):
            assert await r.text() == "pong"
    finally:
        await runner.cleanup()
