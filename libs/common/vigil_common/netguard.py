"""SSRF guard for every outbound request to a user-supplied URL (git clones, webhooks).

The host is resolved and every address it resolves to is checked: loopback, private,
link-local, CGNAT, multicast, reserved, unspecified and cloud-metadata addresses are refused,
in IPv4 and IPv6, including IPv4-mapped, NAT64 and 6to4 forms. Odd notations (``2130706433``,
``0x7f.1``, ``127.1``) are caught because they are judged after resolution, by the address
they really reach. Callers then connect to the address that was checked, never re-resolving
(no DNS rebinding), and do not follow redirects. ``VIGIL_ALLOW_PRIVATE_NETWORKS=true`` lets
loopback and private addresses through for local use and tests; metadata, link-local,
multicast and reserved addresses stay refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Final

import aiohttp
import aiohttp.abc
from yarl import URL

from vigil_common.errors import VigilError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CLOUD_METADATA: Final = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
CGNAT: Final = ipaddress.ip_network("100.64.0.0/10")
NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


class BlockedDestination(VigilError):
    """A URL or address Vigil refuses to contact; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address really reaches (mapped, NAT64, 6to4), else itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(ip: IPAddress, allow_private: bool) -> str | None:
    """Why ``ip`` may not be contacted, or ``None`` when it may."""
    real = embedded_ipv4(ip)
    if real in CLOUD_METADATA or ip in CLOUD_METADATA:
        return "a cloud metadata address"
    if real.is_unspecified or real.is_multicast or real.is_link_local:
        return "an unspecified, multicast or link-local address"
    if real.is_loopback or real.is_private or real in CGNAT:
        return None if allow_private else "a loopback or private address"
    if real.is_reserved or not real.is_global:
        return "a reserved address"
    return None


def check_address(ip: IPAddress, host: str, allow_private: bool) -> None:
    """Raise :class:`BlockedDestination` unless ``ip`` (what ``host`` resolved to) is allowed."""
    problem = address_problem(ip, allow_private)
    if problem is not None:
        raise BlockedDestination(f"{host} resolves to {problem} ({ip}), which is not allowed")


def check_url(url: str, allow_private: bool, *, schemes: tuple[str, ...] = ("https",)) -> URL:
    """Parse a user-given URL and refuse what cannot be a safe destination (before resolving).

    Plain ``http`` is accepted only when private networks are allowed (local servers).
    """
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise BlockedDestination("the URL is not valid") from None
    allowed = schemes + (("http",) if allow_private and "https" in schemes else ())
    if parsed.scheme not in allowed:
        raise BlockedDestination(f"the URL must use {' or '.join(allowed)}")
    if not parsed.host:
        raise BlockedDestination("the URL has no host")
    if parsed.user or parsed.password:
        raise BlockedDestination("the URL must not carry credentials")
    literal = _literal_ip(parsed.host)
    if literal is not None:
        check_address(literal, parsed.host, allow_private)
    return parsed


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


async def resolve_checked(host: str, port: int, allow_private: bool) -> list[IPAddress]:
    """Every address ``host`` resolves to; refuses if any one of them is not allowed.

    Refusing on any (rather than keeping the good ones) leaves no room for a host that mixes
    a public and an internal address to pick the internal one later.
    """
    literal = _literal_ip(host)
    if literal is not None:
        check_address(literal, host, allow_private)
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except socket.gaierror:
        raise BlockedDestination(f"{host} does not resolve") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for ip in addresses:
        check_address(ip, host, allow_private)
    return addresses


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """An aiohttp resolver that only ever hands out checked addresses.

    aiohttp connects to what the resolver returns, so the checked address is the one used.
    (It skips resolvers for IP literals: :func:`check_url` checks those.)
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        """Resolve and check ``host``; raise :class:`BlockedDestination` if refused."""
        addresses = await resolve_checked(host, port, self.allow_private)
        return [
            {
                "hostname": host,
                "host": str(ip),
                "port": port,
                "family": socket.AF_INET if ip.version == 4 else socket.AF_INET6,
                "proto": socket.IPPROTO_TCP,
                "flags": socket.AI_NUMERICHOST,
            }
            for ip in addresses
        ]

    async def close(self) -> None:
        """Nothing to release."""


def guarded_session(allow_private: bool, timeout_seconds: float = 10.0) -> aiohttp.ClientSession:
    """A client session whose every connection goes to a checked address.

    Callers must still pass URLs through :func:`check_url` and send requests with
    ``allow_redirects=False``.
    """
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(allow_private), use_dns_cache=False, limit=100
    )
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_seconds)
    )
