"""Vigil's one LLM client: the ``openai`` SDK against any OpenAI-compatible chat server.

Both AI stages ask for structured answers. A msgspec Struct becomes the JSON schema sent as
``response_format`` (llama.cpp's llama-server and vLLM constrain decoding to it; OpenAI checks
it), and the answer is decoded back into that Struct, so a wrong type, a missing field or an
over-long string is refused here, not deep in a stage. Put a reasoning field before the
verdict in those Structs: the model writes fields in schema order, and a verdict written after
its reasons is measurably better (../shared/NOTES-local-infra.md). Third-party errors are
wrapped at this boundary in :class:`LLMError`, whose ``reason`` is safe to show users.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import msgspec
import openai
from openai import AsyncOpenAI

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.errors import VigilError

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)

# Servers without schema-constrained decoding often fence their JSON (```json … ```).
_FENCE: Final = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


class LLMError(VigilError):
    """The model server failed or answered unusably; ``reason`` is written for users."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LLMUnavailable(LLMError):
    """No answer: timeout, connection failure or an HTTP error after the SDK's retries."""


class LLMBadAnswer(LLMError):
    """An answer came back but cannot be used: cut off, empty or not the expected JSON."""


class Usage(msgspec.Struct, kw_only=True):
    """Tokens, calls and cost one stage spent on one scan (stored in ``scans.llm_usage``).

    ``calls`` counts answered calls, cached ones included; ``cached_calls`` of them were
    served from the response cache and cost no tokens. Tokens are what the server reported
    in ``usage``; ``cost_usd`` prices them with ``VIGIL_LLM_PRICE_*_PER_MTOK``.
    """

    model: str = ""
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    embedding_tokens: int = 0
    failures: int = 0
    cost_usd: float = 0.0

    def add(self, reply: Reply[Any]) -> None:
        """Count one answered call."""
        self.calls += 1
        self.cached_calls += int(reply.cached)
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        # Rounded so the stored sum does not show float noise (1e-6 USD is far below a token).
        self.cost_usd = round(self.cost_usd + reply.cost_usd, 6)

    @property
    def tokens(self) -> int:
        """Chat tokens spent (prompt and completion); cached answers spent none."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Reply(Generic[T]):
    """A decoded answer and what it cost (nothing when ``cached``)."""

    value: T
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False
    cost_usd: float = 0.0


def cost_usd(settings: Settings, prompt_tokens: int, completion_tokens: int) -> float:
    """The estimated price of a call, from the per-million-token settings (default 0)."""
    return (
        prompt_tokens * settings.llm_price_input_per_mtok
        + completion_tokens * settings.llm_price_output_per_mtok
    ) / 1_000_000


def json_schema(answer_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON schema of ``answer_type`` with every ``$ref`` inlined.

    Inlined because some OpenAI-compatible servers' grammar converters handle ``$defs`` poorly;
    answer Structs are small and not recursive.
    """
    schema = msgspec.json.schema(answer_type)
    defs = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, defs)
    return inlined


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return _inline(defs[ref.rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def decode_answer(text: str, answer_type: type[T]) -> T:
    """Decode a model's JSON answer, tolerating a code fence around it."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        return msgspec.json.decode(body.strip(), type=answer_type)
    except msgspec.DecodeError as exc:
        # The answer's text is never repeated: it may quote the scanned code.
        raise LLMBadAnswer("the model's answer did not match the expected JSON schema") from exc


def prompt_hash(*parts: Any) -> str:
    """SHA-256 over everything that shapes an answer (messages, schema, limits)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    """An answer's raw text as the server sent it, and what it cost then."""

    text: str
    prompt_tokens: int
    completion_tokens: int


class ResponseCache:
    """Answers in PostgreSQL (``llm_cache``) by scope, model and prompt hash, for a TTL."""

    def __init__(self, pool: Pool, ttl_seconds: int) -> None:
        self.pool = pool
        self.ttl_seconds = ttl_seconds
        self._purged = False

    async def get(self, scope: str, model: str, key: str) -> CachedAnswer | None:
        """The cached answer, or ``None`` when absent or older than the TTL."""
        row = await self.pool.fetchrow(
            "SELECT answer, prompt_tokens, completion_tokens FROM llm_cache"
            " WHERE scope = $1 AND model = $2 AND prompt_hash = $3"
            " AND created_at > now() - make_interval(secs => $4)",
            scope,
            model,
            key,
            float(self.ttl_seconds),
        )
        if row is None:
            return None
        return CachedAnswer(row["answer"], row["prompt_tokens"], row["completion_tokens"])

    async def put(self, scope: str, model: str, key: str, answer: CachedAnswer) -> None:
        """Store (or refresh) an answer; expired rows are purged on the first put."""
        if not self._purged:
            # Once per process is enough: expired rows are ignored by get() anyway.
            self._purged = True
            await self.pool.execute(
                "DELETE FROM llm_cache WHERE created_at <= now() - make_interval(secs => $1)",
                float(self.ttl_seconds),
            )
        await self.pool.execute(
            "INSERT INTO llm_cache (scope, model, prompt_hash, answer, prompt_tokens,"
            " completion_tokens) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (scope, model, prompt_hash) DO UPDATE SET answer = excluded.answer,"
            " prompt_tokens = excluded.prompt_tokens,"
            " completion_tokens = excluded.completion_tokens, created_at = now()",
            scope,
            model,
            key,
            answer.text,
            answer.prompt_tokens,
            answer.completion_tokens,
        )


class LLMClient:
    """Structured chat completions from one model; safe to share between tasks.

    With a :class:`ResponseCache`, a call given a ``scope`` (the organisation) first looks for
    the same prompt's answer: a re-scan of unchanged code then costs no tokens.
    """

    def __init__(self, settings: Settings, cache: ResponseCache | None = None) -> None:
        if not (settings.llm_base_url and settings.llm_model):
            raise ValueError("VIGIL_LLM_BASE_URL and VIGIL_LLM_MODEL are required")
        self.model = settings.llm_model
        self.max_tokens = settings.llm_max_tokens
        self.cache = cache
        self._settings = settings
        self._client = AsyncOpenAI(
            base_url=settings.llm_base_url,
            # Local servers (llama-server, vLLM, Ollama) need no key, but the SDK wants one.
            api_key=settings.llm_api_key or "not-needed",
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )

    async def complete(
        self,
        system: str,
        user: str,
        answer_type: type[T],
        *,
        name: str,
        scope: str | None = None,
    ) -> Reply[T]:
        """Ask for an answer shaped as ``answer_type``; raise :class:`LLMError` if none usable.

        ``scope`` (an organisation id) turns the response cache on for this call.
        """
        schema = json_schema(answer_type)
        key = prompt_hash(system, user, name, schema, self.max_tokens)
        cache = self.cache if scope is not None else None
        if cache is not None and scope is not None:
            hit = await cache.get(scope, self.model, key)
            if hit is not None:
                log.debug("llm answer from cache", extra={"schema": name})
                return Reply(decode_answer(hit.text, answer_type), 0, 0, cached=True)
        started = time.monotonic()
        response = await self._create(system, user, schema, name)
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise LLMBadAnswer("the model server sent no answer")
        choice = choices[0]
        if choice.finish_reason == "length":
            raise LLMBadAnswer(f"the model's answer was cut off at {self.max_tokens} tokens")
        text = choice.message.content or ""
        value = decode_answer(text, answer_type)
        usage = getattr(response, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
        completion_tokens = getattr(usage, "completion_tokens", 0) or 0
        cost = cost_usd(self._settings, prompt_tokens, completion_tokens)
        reply = Reply(value, prompt_tokens, completion_tokens, cost_usd=cost)
        if cache is not None and scope is not None:
            # Only answers that decoded are cached: a bad answer is asked again next time.
            await cache.put(
                scope, self.model, key, CachedAnswer(text, prompt_tokens, completion_tokens)
            )
        log.debug(
            "llm answered",
            extra={"schema": name, "seconds": round(time.monotonic() - started, 3)},
        )
        return reply

    async def _create(self, system: str, user: str, schema: dict[str, Any], name: str) -> Any:
        try:
            return await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=self.max_tokens,
                temperature=0,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": name, "schema": schema, "strict": True},
                },
            )
        except openai.OpenAIError as exc:
            raise _wrap(exc) from exc

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()


def _wrap(exc: openai.OpenAIError) -> LLMError:
    """The SDK's error as ours, with a reason that never repeats the server's text."""
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable("the model server timed out")
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable("the model server is unreachable")
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailable(f"the model server answered HTTP {exc.status_code}")
    return LLMBadAnswer(f"the model server's answer was unusable ({type(exc).__name__})")


@dataclass(frozen=True)
class Embeddings:
    """Vectors in the order of the texts sent, and the tokens the server counted."""

    vectors: list[list[float]]
    tokens: int


class Embedder:
    """Embeddings from an OpenAI-compatible ``/embeddings`` endpoint, in batches."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.embeddings_base_url and settings.embeddings_model):
            raise ValueError("VIGIL_EMBEDDINGS_BASE_URL and VIGIL_EMBEDDINGS_MODEL are required")
        self.model = settings.embeddings_model
        self.batch_size = settings.embeddings_batch_size
        self._client = AsyncOpenAI(
            base_url=settings.embeddings_base_url,
            api_key=settings.embeddings_api_key or "not-needed",
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )

    async def embed(self, texts: Sequence[str]) -> Embeddings:
        """One vector per text; raise :class:`LLMError` when the server fails or miscounts."""
        vectors: list[list[float]] = []
        tokens = 0
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            try:
                response = await self._client.embeddings.create(
                    model=self.model, input=batch, encoding_format="float"
                )
            except openai.OpenAIError as exc:
                raise _wrap(exc) from exc
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch):
                raise LLMBadAnswer("the embeddings server sent the wrong number of vectors")
            vectors += [list(item.embedding) for item in data]
            tokens += getattr(response.usage, "prompt_tokens", 0) or 0
        return Embeddings(vectors, tokens)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()


def client_from_settings(settings: Settings, pool: Pool | None = None) -> LLMClient | None:
    """The configured client, or ``None`` when no LLM is configured (stages then skip it).

    With ``pool`` and a positive ``VIGIL_LLM_CACHE_TTL_SECONDS`` answers are cached.
    """
    if not (settings.llm_base_url and settings.llm_model):
        return None
    cache = None
    if pool is not None and settings.llm_cache_ttl_seconds > 0:
        cache = ResponseCache(pool, settings.llm_cache_ttl_seconds)
    return LLMClient(settings, cache)


def embedder_from_settings(settings: Settings) -> Embedder | None:
    """The configured embeddings client, or ``None`` (retrieval is then lexical only)."""
    if not (settings.embeddings_base_url and settings.embeddings_model):
        return None
    return Embedder(settings)
