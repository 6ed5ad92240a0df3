"""Notifier fixtures: scans and endpoints in the real database, and a real receiver.

The receiver is an aiohttp server on 127.0.0.1 that answers from a script (``[503, 503]`` then
200), verifies both signature schemes with code written here, independently of
``vigil_notifier.signing``, and de-duplicates on ``webhook-id`` as receivers are told to.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from aiohttp import web

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.netguard import guarded_session
from vigil_common.sealing import seal
from vigil_notifier.scheduler import DeliveryLoop

FAST_SCHEDULE = "0,0.2,0.2,0.2,0.2"


def standard_valid(secret: str, headers: Any, body: bytes) -> bool:
    """Standard Webhooks verification, as its spec describes it."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")]
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and any(hmac.compare_digest(expected, s) for s in offered)


def vigil_valid(secret: str, headers: Any, body: bytes) -> bool:
    """``X-Vigil-Signature`` verification: HMAC-SHA256 of the body keyed with the secret text."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    offered = headers["X-Vigil-Signature"].split(" ")
    return any(hmac.compare_digest(expected, s) for s in offered)


@dataclass
class Receiver:
    """A webhook receiver that answers ``script`` in turn, then ``then``."""

    secret: str = ""
    script: list[int] = field(default_factory=list)
    then: int = 200
    retry_after: str | None = None
    url: str = ""
    received: list[tuple[float, dict[str, str], bytes]] = field(default_factory=list)
    processed: dict[str, Any] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((time.monotonic(), dict(request.headers), body))
        self.arrived.set()
        status = self.script.pop(0) if self.script else self.then
        if status >= 300:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.Response(status=status, headers=headers)
        if self.secret and not (
            standard_valid(self.secret, request.headers, body)
            and vigil_valid(self.secret, request.headers, body)
        ):
            return web.Response(status=401)
        self.processed.setdefault(request.headers["webhook-id"], msgspec.json.decode(body))
        return web.Response(text="ok")

    async def wait_for(self, count: int, timeout: float = 15.0) -> None:
        """Until ``count`` requests have arrived."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def serve(receiver: Receiver, port: int) -> web.AppRunner:
    """Serve ``receiver`` on 127.0.0.1:``port``."""
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.url = f"http://127.0.0.1:{port}/hook"
    return runner


StartReceiver = Callable[[Receiver, int], Awaitable[None]]


@pytest.fixture
async def start_receiver() -> AsyncIterator[StartReceiver]:
    """Start a receiver on a port (possibly after the notifier first found it closed)."""
    runners: list[web.AppRunner] = []

    async def start(hook: Receiver, port: int) -> None:
        runners.append(await serve(hook, port))

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def new_receiver() -> Callable[..., Receiver]:
    """Make a receiver that is not serving yet (tests cannot import this module)."""
    return Receiver


@pytest.fixture
async def receiver(
    start_receiver: StartReceiver, unused_tcp_port_factory: Callable[[], int]
) -> Receiver:
    """A running receiver."""
    hook = Receiver()
    await start_receiver(hook, unused_tcp_port_factory())
    return hook


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    """Settings with a retry schedule of fractions of a second."""
    return msgspec.structs.replace(
        settings, webhook_retry_schedule=FAST_SCHEDULE, webhook_poll_seconds=0.05
    )


@pytest.fixture
async def pending_cleanup(pool: Pool) -> AsyncIterator[None]:
    """Leave no due delivery behind for the next test's loop to send."""
    yield
    await pool.execute("UPDATE webhook_deliveries SET state = 'failed' WHERE state = 'pending'")


@contextlib.asynccontextmanager
async def _running_loop(pool: Pool, settings: Settings) -> AsyncIterator[DeliveryLoop]:
    async with guarded_session(True, settings.webhook_timeout_seconds) as session:
        loop = DeliveryLoop(pool, settings, session)
        task = asyncio.create_task(loop.run())
        try:
            yield loop
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


RunningLoop = Callable[[Settings], contextlib.AbstractAsyncContextManager[DeliveryLoop]]


@pytest.fixture
def running_loop(pool: Pool, pending_cleanup: None) -> RunningLoop:
    """Run the delivery loop as a task in a block; leaving it cancels it (a stopped notifier)."""
    return lambda settings: _running_loop(pool, settings)


MakeScan = Callable[..., Awaitable[uuid.UUID]]


@pytest.fixture
def make_scan(pool: Pool) -> MakeScan:
    """Insert a finished scan with ``findings`` high-severity findings; returns its id."""

    async def make(org_id: uuid.UUID, *, status: str = "completed", findings: int = 2,
                   callback: tuple[str, str] | None = None, settings: Settings | None = None
                   ) -> uuid.UUID:  # fmt: skip
        project_id = await pool.fetchval(
            "INSERT INTO projects (org_id, name) VALUES ($1, 'demo') ON CONFLICT (org_id, name)"
            " DO UPDATE SET name = EXCLUDED.name RETURNING id",
            org_id,
        )
        scan_id = uuid.uuid4()
        sealed = seal(callback[1], settings.sealing_key, "webhook-secret") if callback else None
        await pool.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, repo_url, commit_sha, status,"
            " error, finding_counts, finished_at, callback_url, callback_secret_sealed)"
            " VALUES ($1, $2, $3, 'git', 'https://example.org/r.git', 'abc123', $4, $5, $6,"
            " now(), $7, $8)",
            scan_id, org_id, project_id, status,
            "archive refused: bad" if status == "failed" else None,
            {"high": findings} if status == "completed" else None,
            callback[0] if callback else None, sealed,
        )  # fmt: skip
        for n in range(findings):
            await pool.execute(
                "INSERT INTO findings (scan_id, org_id, project_id, fingerprint, scanner, rule_id,"
                " severity, confidence, title, file_path, start_line, end_line)"
                " VALUES ($1, $2, $3, $4, 'semgrep', 'vigil-rule', 'high', 'high', 'Bad call',"
                " 'app.py', $5, $5)",
                scan_id, org_id, project_id, f"fp{n}", n + 1,
            )  # fmt: skip
        return scan_id

    return make


MakeEndpoint = Callable[..., Awaitable[tuple[uuid.UUID, str]]]


@pytest.fixture
def make_endpoint(pool: Pool, settings: Settings) -> MakeEndpoint:
    """Insert an endpoint of ``org_id`` for ``url``; returns its id and secret."""

    async def make(
        org_id: uuid.UUID, url: str, event_types: tuple[str, ...] = ("scan.completed",)
    ) -> tuple[uuid.UUID, str]:
        secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
        endpoint_id = await pool.fetchval(
            "INSERT INTO webhook_endpoints (org_id, url, event_types, secret_sealed)"
            " VALUES ($1, $2, $3, $4) RETURNING id",
            org_id,
            url,
            list(event_types),
            seal(secret, settings.sealing_key, "webhook-secret"),
        )
        return endpoint_id, secret

    return make


DeliveryRows = Callable[[uuid.UUID], Awaitable[list[Any]]]


@pytest.fixture
def delivery_rows(pool: Pool) -> DeliveryRows:
    """The endpoint's deliveries, each with its attempts' statuses (``statuses``)."""

    async def rows(endpoint_id: uuid.UUID) -> list[Any]:
        return list(
            await pool.fetch(
                "SELECT d.*, array(SELECT status FROM webhook_attempts a"
                " WHERE a.delivery_id = d.id ORDER BY a.id) AS statuses"
                " FROM webhook_deliveries d WHERE endpoint_id = $1",
                endpoint_id,
            )
        )

    return rows
