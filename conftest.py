"""Session fixtures: the real NATS, PostgreSQL and S3 servers every test talks to.

The servers are the same embedded ones ``make run`` uses, started once per session on free
loopback ports. Set ``VIGIL_TEST_EXTERNAL=1`` with ``VIGIL_NATS_URL``, ``VIGIL_DATABASE_URL``
and the ``VIGIL_S3_*`` settings to run the tests against servers of your own instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common import bus
from vigil_common.config import Settings, load_settings
from vigil_common.db import Pool, connect_pool
from vigil_common.migrate import migrate
from vigil_common.sealing import generate_key
from vigil_common.storage import ObjectStore
from vigil_common.subjects import STREAM
from vigil_devstack import make_temp_home, start_stack
from vigil_gateway.app import create_app
from vigil_gateway.keys import SCOPES, create_key, ensure_organisation

ROOT = Path(__file__).resolve().parent


def _load_fake_openai() -> Any:
    """The AI stages' test support (a local OpenAI-protocol server and fixtures).

    Test folders are not packages, so it is loaded by path, once, here; tests import it with
    ``from conftest import fake_openai``.
    """
    name = "vigil_tests_fake_openai"
    if name not in sys.modules:
        path = ROOT / "libs" / "common" / "tests" / "fake_openai.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


fake_openai = _load_fake_openai()
os.environ.setdefault("VIGIL_SEMGREP_BIN", str(ROOT / ".venv-scanners" / "bin" / "semgrep"))
os.environ.setdefault("VIGIL_BETTERLEAKS_BIN", str(ROOT / ".venv-scanners" / "bin" / "betterleaks"))
if (ROOT.parent / "shared" / "osv").is_dir():  # the offline advisories beside the clone
    os.environ.setdefault("VIGIL_OSV_DIR", str(ROOT.parent / "shared" / "osv"))

# Short enough that redelivery tests finish quickly, long enough for a loaded CI machine.
TEST_SETTINGS = {
    "VIGIL_ACK_WAIT_SECONDS": "3",
    "VIGIL_MAX_DELIVER": "3",
    "VIGIL_ALLOW_PRIVATE_NETWORKS": "true",
    "VIGIL_S3_CREATE_BUCKET": "true",
    "VIGIL_LOG_LEVEL": "DEBUG",
    "VIGIL_SEALING_KEY": generate_key(),
}


@pytest.fixture(scope="session")
def stack_env() -> Iterator[dict[str, str]]:
    """``VIGIL_*`` settings pointing at running NATS, PostgreSQL and S3 servers."""
    if os.environ.get("VIGIL_TEST_EXTERNAL") == "1":
        yield {k: v for k, v in os.environ.items() if k.startswith("VIGIL_")}
        return
    home = make_temp_home("vigil-test-")
    with start_stack(home, throwaway=True) as stack:
        yield dict(stack.env)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def test_env(stack_env: dict[str, str]) -> dict[str, str]:
    """The environment a test process or service runs with."""
    names = ("VIGIL_SEMGREP_BIN", "VIGIL_BETTERLEAKS_BIN", "VIGIL_OSV_DIR")
    scanners = {name: os.environ[name] for name in names if name in os.environ}
    return {**stack_env, **TEST_SETTINGS, **scanners}


@pytest.fixture(scope="session")
def settings(test_env: dict[str, str]) -> Settings:
    """Settings for code under test, pointing at the session's servers."""
    return load_settings(test_env)


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[Pool]:
    """A pool on the migrated test database."""
    await migrate(settings.database_url)
    db = await connect_pool(settings)
    yield db
    await db.close()


@pytest.fixture(scope="session")
async def store(settings: Settings) -> ObjectStore:
    """The object store, its bucket created."""
    objects = ObjectStore(settings)
    await objects.ensure_bucket()
    return objects


@pytest.fixture
async def nats_js(settings: Settings) -> AsyncIterator[tuple[NATS, JetStreamContext]]:
    """A NATS connection and the pipeline stream, emptied and without consumers.

    Purged rather than deleted and recreated: recreating a file-backed stream right after
    deleting it can fail while the server still removes the old store (err_code 10049).
    """
    nc, js = await bus.connect(settings, "tests")
    await bus.ensure_stream(js)
    await js.purge_stream(STREAM)
    for consumer in await js.consumers_info(STREAM):
        await js.delete_consumer(STREAM, consumer.name)
    yield nc, js
    await nc.drain()


GatewayClient = TestClient[Any, Any]
MakeGatewayClient = Callable[..., Awaitable[GatewayClient]]


@pytest.fixture
def gateway_client(
    aiohttp_client: Callable[..., Awaitable[GatewayClient]],
    settings: Settings,
    pool: Pool,
    nats_js: tuple[NATS, JetStreamContext],
) -> MakeGatewayClient:
    """Make a test client of a gateway app, its settings changed by keyword arguments."""

    async def make(**overrides: Any) -> GatewayClient:
        return await aiohttp_client(create_app(msgspec.structs.replace(settings, **overrides)))

    return make


@pytest.fixture
async def client(gateway_client: MakeGatewayClient) -> GatewayClient:
    """A test client of a gateway app with the session's settings."""
    return await gateway_client()


@dataclass(frozen=True)
class Tenant:
    """An organisation of the test database and a key of it with every scope."""

    org_id: uuid.UUID
    key: str


async def make_tenant(pool: Pool, scopes: tuple[str, ...] = SCOPES) -> Tenant:
    """A new organisation with one key holding ``scopes``."""
    org_id = await ensure_organisation(pool, f"org-{uuid.uuid4().hex[:12]}")
    key = await create_key(pool, org_id, "test", scopes)
    assert key is not None
    return Tenant(org_id, key)


@pytest.fixture
async def tenant(pool: Pool) -> Tenant:
    """A fresh organisation and an all-scopes key for it."""
    return await make_tenant(pool)
