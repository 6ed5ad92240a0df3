"""Test support for the LLM stages: a local OpenAI-compatible server and stage fixtures.

The server implements ``POST /v1/chat/completions`` (and ``POST /v1/embeddings``, with
deterministic vectors: :func:`embedding_of`); the real ``openai`` SDK talks to it over
HTTP. A test sets ``responder``, which picks a :class:`Canned` answer from the request (usually
by prompt content). A dict answer is checked against the request's ``response_format`` JSON
schema before it is sent, as a server with schema-constrained decoding would guarantee;
scripted failures (HTTP errors, slow replies, truncation, malformed JSON) are canned answers too.

Test modules load this file by path (``spec_from_file_location``) and bind the fixtures they
use (``fake_llm = fake.fake_llm``). It is not a conftest: a ``conftest.py`` in a tests folder
that is not a package displaces the root one, which other tests import as ``conftest``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.schemas import ManifestFile, TreeManifest
from vigil_common.storage import ObjectStore, tree_keys
from vigil_common.trees import encode_manifest, pack_tree
from vigil_common.worker import StageContext


@dataclass(frozen=True)
class Canned:
    """One scripted reply: JSON content (dict) or raw text, or an HTTP error, maybe late."""

    content: dict[str, Any] | str = ""
    status: int = 200
    finish_reason: str = "stop"
    delay: float = 0.0
    # What the reply's ``usage`` reports (budget and cost tests script large counts).
    prompt_tokens: int = 100
    completion_tokens: int = 20


Responder = Callable[[dict[str, Any]], Canned]


def prompt_of(body: dict[str, Any]) -> str:
    """Every message's text of a request, joined (what responders match on)."""
    return "\n".join(str(message.get("content", "")) for message in body["messages"])


@dataclass
class FakeOpenAI:
    """The server: start it, point ``VIGIL_LLM_BASE_URL`` at ``base_url``, read ``requests``."""

    responder: Responder = lambda _body: Canned(status=500)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    # ``POST /v1/embeddings``: the requests seen, and a status to script failures with.
    embedding_requests: list[dict[str, Any]] = field(default_factory=list)
    embedding_status: int = 200
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_post("/v1/embeddings", self._embed)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        canned = self.responder(body)
        if canned.delay:
            await asyncio.sleep(canned.delay)
        if canned.status != 200:
            error = {"error": {"message": "scripted failure", "type": "server_error"}}
            return web.json_response(error, status=canned.status)
        response_format = body.get("response_format") or {}
        if response_format.get("type") != "json_schema":
            return web.json_response({"error": {"message": "json_schema expected"}}, status=400)
        return web.json_response(_completion(body, canned, response_format))

    async def _embed(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.embedding_requests.append(body)
        if self.embedding_status != 200:
            error = {"error": {"message": "scripted failure", "type": "server_error"}}
            return web.json_response(error, status=self.embedding_status)
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": embedding_of(text)}
            for i, text in enumerate(texts)
        ]
        tokens = sum(len(text.split()) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return web.json_response(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )


EMBEDDING_DIMENSIONS = 64


def embedding_of(text: str) -> list[float]:
    """A deterministic unit vector: hashed bag of words, so texts sharing words are close."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"[a-z]+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:2], "big") % EMBEDDING_DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _completion(
    body: dict[str, Any], canned: Canned, response_format: dict[str, Any]
) -> dict[str, Any]:
    content = canned.content
    if isinstance(content, dict):
        jsonschema.validate(content, response_format["json_schema"]["schema"])
        content = json.dumps(content)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": canned.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": canned.prompt_tokens,
            "completion_tokens": canned.completion_tokens,
            "total_tokens": canned.prompt_tokens + canned.completion_tokens,
        },
    }


@pytest.fixture
async def fake_llm() -> AsyncIterator[Any]:
    """A started fake server; set its ``responder`` to script answers."""
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def js(nats_js: tuple[NATS, JetStreamContext]) -> JetStreamContext:
    return nats_js[1]


@pytest.fixture
def make_ctx(
    settings: Settings, pool: Pool, store: ObjectStore, js: JetStreamContext, fake_llm: Any
) -> Callable[..., StageContext]:
    """StageContexts: ``make_ctx()`` has no LLM, ``make_ctx(llm=True, …)`` uses the fake one."""

    def make(*, llm: bool = False, **overrides: Any) -> StageContext:
        if llm:
            overrides = {
                "llm_base_url": fake_llm.base_url,
                "llm_model": "fake-model",
                "llm_max_retries": 0,
                "llm_timeout_seconds": 5.0,
                **overrides,
            }
        return StageContext(msgspec.structs.replace(settings, **overrides), pool, store, js)

    return make


@pytest.fixture
def make_scan(pool: Pool) -> Callable[[uuid.UUID, str], Awaitable[dict[str, uuid.UUID]]]:
    """Running scans: ``await make_scan(org_id, stage)`` gives id, org_id and project_id."""

    async def make(org_id: uuid.UUID, stage: str) -> dict[str, uuid.UUID]:
        return await _new_scan(pool, org_id, stage)

    return make


async def _new_scan(pool: Pool, org_id: uuid.UUID, stage: str) -> dict[str, uuid.UUID]:
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        org_id,
        f"p-{uuid.uuid4().hex[:6]}",
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status, stage)"
        " VALUES ($1, $2, $3, 'upload', 'running', $4)",
        scan_id,
        org_id,
        project_id,
        stage,
    )
    return {"id": scan_id, "org_id": org_id, "project_id": project_id}


def _language(path: str) -> str | None:
    return {".py": "python", ".js": "javascript", ".md": "markdown"}.get(Path(path).suffix)


@pytest.fixture
def put_tree(store: ObjectStore, tmp_path: Path) -> Callable[..., Awaitable[tuple[str, str]]]:
    """Stored trees: ``await put_tree(scan_id, {path: text})`` gives tree and manifest keys."""

    async def put(scan_id: uuid.UUID, files: dict[str, str]) -> tuple[str, str]:
        return await _store_tree(store, scan_id, files, tmp_path)

    return put


async def _store_tree(
    store: ObjectStore, scan_id: uuid.UUID, files: dict[str, str], workdir: Path
) -> tuple[str, str]:
    """Pack ``files`` as ingest would and store them; the tree and manifest keys."""
    root = workdir / "src"
    entries = []
    for path, text in sorted(files.items()):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        data = text.encode()
        digest = hashlib.sha256(data).hexdigest()
        entries.append(
            ManifestFile(path, len(data), digest, _language(path), len(text.splitlines()))
        )
    manifest = TreeManifest(
        files=entries, total_files=len(entries), total_bytes=sum(e.size for e in entries)
    )
    pack_tree(root, manifest, workdir / "tree.packed")
    tree_key, manifest_key = tree_keys(scan_id)
    await store.put_bytes(tree_key, (workdir / "tree.packed").read_bytes(), "application/gzip")
    await store.put_bytes(manifest_key, encode_manifest(manifest), "application/json")
    return tree_key, manifest_key


# Replay mode: answers a real model gave to the same prompts, recorded by
# scripts/llm/record.py into libs/common/tests/recordings/<app>.json. A test sets
# ``fake_llm.responder = Replay(load_recordings())``; a prompt with no recording answers 404 (the
# client then stops the stage) and is listed in ``misses``, so a test can say which changed.
RECORDINGS = Path(__file__).parent / "recordings"


def recording_key(body: dict[str, Any]) -> str:
    """A chat request's key in the recordings: SHA-256 of its schema name and messages."""
    schema_name = (body.get("response_format") or {}).get("json_schema", {}).get("name", "")
    messages = [[m.get("role", ""), str(m.get("content", ""))] for m in body["messages"]]
    text = json.dumps([schema_name, messages], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def load_recordings(*names: str, folder: Path = RECORDINGS) -> dict[str, Any]:
    """The recording files (all, or ``<name>.json`` for each name), parsed, by name."""
    files = [folder / f"{n}.json" for n in names] if names else sorted(folder.glob("*.json"))
    return {f.stem: json.loads(f.read_text()) for f in files}


@dataclass
class Replay:
    """A responder answering each prompt with its recorded answer, verbatim."""

    recordings: dict[str, Any]
    misses: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.answers = {
            key: answer
            for recording in self.recordings.values()
            for key, answer in recording["responses"].items()
        }

    def __call__(self, body: dict[str, Any]) -> Canned:
        answer = self.answers.get(recording_key(body))
        if answer is None:
            self.misses.append(recording_key(body))
            return Canned(status=404)
        # The raw text as the model sent it: replayed, not re-validated (a str is sent as is).
        return Canned(
            str(answer["content"]),
            finish_reason=str(answer.get("finish_reason", "stop")),
            prompt_tokens=int(answer.get("prompt_tokens", 0)),
            completion_tokens=int(answer.get("completion_tokens", 0)),
        )
