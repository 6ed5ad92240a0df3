"""The online advisory source: the OSV API's ``/v1/querybatch``, then ``/v1/vulns/{id}``.

querybatch answers only ids and ``modified`` per query, in query order, at most 1000 queries
per request; a result with ``next_page_token`` has more ids, fetched by sending that query
again with ``page_token`` (https://google.github.io/osv.dev/post-v1-querybatch/). Each id is
then read once per scan from ``GET /v1/vulns/{id}``, a few at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Final, TypeVar
from urllib.parse import quote

import aiohttp
import msgspec

from vigil_common.errors import VigilError
from vigil_static_scan.deps.model import Dependency
from vigil_static_scan.deps.osv_index import Advisory

BATCH_SIZE: Final = 1000
CONCURRENCY: Final = 8
# A runaway pagination (a server repeating its token) must end.
MAX_PAGES: Final = 100
TIMEOUT: Final = aiohttp.ClientTimeout(total=60, connect=10)
RETRY_PAUSES: Final = (0.5, 2.0)
_TRANSIENT: Final = frozenset({429, 500, 502, 503, 504})

Key = tuple[str, str, str]
T = TypeVar("T")


class OsvApiError(VigilError):
    """The OSV API could not be reached or answered something unreadable."""


class _Transient(OsvApiError):
    """A failure worth another attempt."""


class _Package(msgspec.Struct, frozen=True):
    name: str
    ecosystem: str


class _Query(msgspec.Struct, frozen=True, omit_defaults=True):
    package: _Package
    version: str
    page_token: str = ""


class _VulnRef(msgspec.Struct, frozen=True):
    id: str


class _Result(msgspec.Struct, frozen=True):
    vulns: tuple[_VulnRef, ...] = ()
    next_page_token: str = ""


class _Batch(msgspec.Struct, frozen=True):
    results: tuple[_Result, ...] = ()


_BATCH: Final = msgspec.json.Decoder(_Batch)
_VULN: Final = msgspec.json.Decoder(Advisory)


def _decode(decoder: msgspec.json.Decoder[T], raw: bytes, base: str) -> T:
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise OsvApiError(f"OSV API {base} answered something that is not OSV JSON") from exc


def query_version(dep: Dependency) -> str:
    """The version as OSV's records write it: Go's without ``v`` and ``+incompatible``."""
    if dep.ecosystem == "Go":
        return dep.version.removeprefix("v").removesuffix("+incompatible")
    return dep.version


class OsvClient:
    """One scan's conversation with the API; each advisory is fetched once per client."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._cache: dict[str, asyncio.Task[Advisory]] = {}
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def advisories(self, deps: Iterable[Dependency]) -> dict[Key, list[Advisory]]:
        """The live advisories affecting each (ecosystem, name, version) of ``deps``."""
        keys: list[Key] = list(
            dict.fromkeys((str(d.ecosystem), d.name, query_version(d)) for d in deps)
        )
        ids = await self.vuln_ids(keys)
        wanted = sorted({vuln for found in ids.values() for vuln in found})
        try:
            records = await asyncio.gather(*map(self.vuln, wanted))
        except BaseException:
            for task in self._cache.values():  # the rest would outlive the session
                task.cancel()
            raise
        fetched = dict(zip(wanted, records, strict=True))
        return {
            key: [fetched[v] for v in found if not fetched[v].withdrawn]
            for key, found in ids.items()
            if found
        }

    async def vuln_ids(self, keys: list[Key]) -> dict[Key, list[str]]:
        """Every vulnerability id per key, following each query's pages."""
        ids: dict[Key, list[str]] = {key: [] for key in keys}
        pending = [(key, "") for key in keys]
        for _ in range(MAX_PAGES):
            if not pending:
                return ids
            more: list[tuple[Key, str]] = []
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start : start + BATCH_SIZE]
                for (key, _), result in zip(chunk, await self._batch(chunk), strict=True):
                    ids[key] += [v.id for v in result.vulns if v.id not in ids[key]]
                    if result.next_page_token:
                        more.append((key, result.next_page_token))
            pending = more
        raise OsvApiError(f"OSV API {self._base} kept paginating past {MAX_PAGES} pages")

    async def _batch(self, chunk: list[tuple[Key, str]]) -> tuple[_Result, ...]:
        queries = [
            _Query(_Package(name, eco), version, token) for (eco, name, version), token in chunk
        ]
        body = msgspec.json.encode({"queries": queries})
        batch = _decode(_BATCH, await self._request("POST", "/v1/querybatch", body), self._base)
        if len(batch.results) != len(chunk):
            raise OsvApiError(
                f"OSV API {self._base} answered {len(batch.results)} results"
                f" for {len(chunk)} queries"
            )
        return batch.results

    async def vuln(self, vuln_id: str) -> Advisory:
        """The full record of ``vuln_id``, fetched once for the whole scan."""
        if vuln_id not in self._cache:
            self._cache[vuln_id] = asyncio.ensure_future(self._fetch(vuln_id))
        return await self._cache[vuln_id]

    async def _fetch(self, vuln_id: str) -> Advisory:
        async with self._slots:
            raw = await self._request("GET", f"/v1/vulns/{quote(vuln_id, safe='')}", None)
        advisory = _decode(_VULN, raw, self._base)
        if advisory.id != vuln_id:
            raise OsvApiError(f"OSV API {self._base} answered {advisory.id} for {vuln_id}")
        return advisory

    async def _request(self, method: str, path: str, body: bytes | None) -> bytes:
        """The response body of a 200, or OsvApiError naming what went wrong (never its text).

        A refused connection, a timeout, 429 or a 5xx is tried again after a short pause:
        one hiccup should not leave a scan's dependencies unchecked.
        """
        for pause in RETRY_PAUSES:
            try:
                return await self._attempt(method, path, body)
            except _Transient:
                await asyncio.sleep(pause)
        try:
            return await self._attempt(method, path, body)
        except _Transient as exc:
            attempts = len(RETRY_PAUSES) + 1
            raise OsvApiError(f"{exc} (after {attempts} attempts)") from exc

    async def _attempt(self, method: str, path: str, body: bytes | None) -> bytes:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            async with self._session.request(
                method, self._base + path, data=body, headers=headers, timeout=TIMEOUT
            ) as response:
                if response.status == 200:
                    return await response.read()
                error = _Transient if response.status in _TRANSIENT else OsvApiError
                raise error(
                    f"OSV API {self._base} answered HTTP {response.status} to {method} {path}"
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Transient(
                f"OSV API {self._base} could not be reached ({type(exc).__name__})"
            ) from exc
