"""The LLM client with the real ``openai`` SDK against a local OpenAI-protocol server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import pytest

from conftest import fake_openai
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.llm import (
    LLMBadAnswer,
    LLMClient,
    LLMUnavailable,
    Reply,
    ResponseCache,
    Usage,
    client_from_settings,
    cost_usd,
    decode_answer,
    embedder_from_settings,
    json_schema,
)

fake = fake_openai


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=20)]


class Judgement(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reasoning: Annotated[str, msgspec.Meta(max_length=200)]
    verdict: Literal["yes", "no"]
    items: list[Item]


GOOD = {"reasoning": "because", "verdict": "yes", "items": [{"name": "a"}]}
GOOD_VALUE = Judgement("because", "yes", [Item("a")])


@pytest.fixture
async def server() -> AsyncIterator[Any]:
    srv = fake.FakeOpenAI()
    await srv.start()
    yield srv
    await srv.stop()


def llm_settings(base: Settings, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_base_url": url,
        "llm_model": "test-model",
        "llm_max_retries": 0,
        "llm_timeout_seconds": 5.0,
        **overrides,
    }
    return msgspec.structs.replace(base, **values)


def test_no_client_without_a_base_url_and_model() -> None:
    assert client_from_settings(Settings()) is None
    assert client_from_settings(Settings(llm_base_url="http://x/v1")) is None


def test_schema_inlines_refs_keeps_order_and_caps_strings() -> None:
    schema = json_schema(Judgement)
    assert "$defs" not in schema and "$ref" not in str(schema)
    assert list(schema["properties"]) == ["reasoning", "verdict", "items"]
    assert schema["properties"]["reasoning"]["maxLength"] == 200
    assert schema["properties"]["items"]["items"]["properties"]["name"]["maxLength"] == 20
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["reasoning", "verdict", "items"]


def test_decode_tolerates_a_code_fence() -> None:
    text = '```json\n{"reasoning": "r", "verdict": "no", "items": []}\n```'
    assert decode_answer(text, Judgement).verdict == "no"


@pytest.mark.parametrize(
    "text",
    ['{"reasoning": "r", "verdict": "maybe", "items": []}', "not json", '{"verdict": "yes"}'],
)
def test_decode_refuses_wrong_values_without_echoing_them(text: str) -> None:
    with pytest.raises(LLMBadAnswer) as caught:
        decode_answer(text, Judgement)
    assert "maybe" not in caught.value.reason and "not json" not in caught.value.reason


async def test_a_structured_answer_is_decoded_with_its_usage(
    settings: Settings, server: Any
) -> None:
    server.responder = lambda body: fake.Canned(GOOD)
    client = LLMClient(llm_settings(settings, server.base_url))
    reply = await client.complete("sys", "user text", Judgement, name="judgement")
    await client.close()
    assert reply.value == Judgement("because", "yes", [Item("a")])
    assert (reply.prompt_tokens, reply.completion_tokens) == (100, 20)
    sent = server.requests[0]
    assert sent["model"] == "test-model"
    assert sent["response_format"]["json_schema"]["schema"] == json_schema(Judgement)
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


async def test_a_server_error_is_retried_then_reported(settings: Settings, server: Any) -> None:
    server.responder = lambda body: fake.Canned(status=500)
    client = LLMClient(llm_settings(settings, server.base_url, llm_max_retries=1))
    with pytest.raises(LLMUnavailable, match="HTTP 500"):
        await client.complete("sys", "user", Judgement, name="judgement")
    await client.close()
    assert len(server.requests) == 2


async def test_a_slow_server_times_out(settings: Settings, server: Any) -> None:
    server.responder = lambda body: fake.Canned(GOOD, delay=3.0)
    client = LLMClient(llm_settings(settings, server.base_url, llm_timeout_seconds=0.3))
    with pytest.raises(LLMUnavailable, match="timed out"):
        await client.complete("sys", "user", Judgement, name="judgement")
    await client.close()


async def test_a_truncated_answer_is_refused(settings: Settings, server: Any) -> None:
    server.responder = lambda body: fake.Canned('{"reasoning": "cut', finish_reason="length")
    client = LLMClient(llm_settings(settings, server.base_url, llm_max_tokens=16))
    with pytest.raises(LLMBadAnswer, match="cut off at 16 tokens"):
        await client.complete("sys", "user", Judgement, name="judgement")
    await client.close()


async def test_wrongly_typed_json_is_refused(settings: Settings, server: Any) -> None:
    server.responder = lambda body: fake.Canned('{"reasoning": 1, "verdict": "yes", "items": []}')
    client = LLMClient(llm_settings(settings, server.base_url))
    with pytest.raises(LLMBadAnswer, match="expected JSON schema"):
        await client.complete("sys", "user", Judgement, name="judgement")
    await client.close()


async def test_an_unreachable_server_is_reported(settings: Settings) -> None:
    client = LLMClient(llm_settings(settings, "http://127.0.0.1:9/v1"))
    with pytest.raises(LLMUnavailable, match="unreachable"):
        await client.complete("sys", "user", Judgement, name="judgement")
    await client.close()


# --- response cache, usage and cost, embeddings -------------------------------------------


def cached_client(base: Settings, url: str, pool: Pool, **overrides: Any) -> LLMClient:
    client = client_from_settings(llm_settings(base, url, **overrides), pool)
    assert client is not None
    return client


async def test_a_repeated_prompt_is_answered_from_the_cache_in_its_scope_only(
    settings: Settings, server: Any, pool: Pool
) -> None:
    server.responder = lambda body: fake.Canned(GOOD)
    client = cached_client(settings, server.base_url, pool)
    scope = f"org-{uuid.uuid4()}"
    first = await client.complete("sys", "user", Judgement, name="judgement", scope=scope)
    again = await client.complete("sys", "user", Judgement, name="judgement", scope=scope)
    assert len(server.requests) == 1
    assert (first.cached, again.cached) == (False, True)
    assert again.value == first.value
    assert (again.prompt_tokens, again.completion_tokens, again.cost_usd) == (0, 0, 0.0)
    # Another scope, another prompt, no scope at all: each goes to the server.
    await client.complete("sys", "user", Judgement, name="judgement", scope=f"org-{uuid.uuid4()}")
    await client.complete("sys", "other", Judgement, name="judgement", scope=scope)
    await client.complete("sys", "user", Judgement, name="judgement")
    await client.close()
    assert len(server.requests) == 4
    stored = await pool.fetchval("SELECT count(*) FROM llm_cache WHERE scope = $1", scope)
    assert stored == 2


async def test_a_cached_answer_older_than_the_ttl_is_asked_again(
    settings: Settings, server: Any, pool: Pool
) -> None:
    server.responder = lambda body: fake.Canned(GOOD)
    client = cached_client(settings, server.base_url, pool, llm_cache_ttl_seconds=60)
    scope = f"org-{uuid.uuid4()}"
    await client.complete("sys", "user", Judgement, name="judgement", scope=scope)
    await pool.execute(
        "UPDATE llm_cache SET created_at = now() - interval '61 seconds' WHERE scope = $1", scope
    )
    reply = await client.complete("sys", "user", Judgement, name="judgement", scope=scope)
    await client.close()
    assert not reply.cached and len(server.requests) == 2


async def test_unusable_answers_are_not_cached(settings: Settings, server: Any, pool: Pool) -> None:
    server.responder = lambda body: fake.Canned('{"reasoning": 1}')
    client = cached_client(settings, server.base_url, pool)
    scope = f"org-{uuid.uuid4()}"
    for _ in range(2):
        with pytest.raises(LLMBadAnswer):
            await client.complete("sys", "user", Judgement, name="judgement", scope=scope)
    await client.close()
    assert len(server.requests) == 2
    assert await pool.fetchval("SELECT count(*) FROM llm_cache WHERE scope = $1", scope) == 0


def test_no_cache_without_a_pool_or_with_a_zero_ttl(settings: Settings, pool: Pool) -> None:
    url = "http://127.0.0.1:9/v1"
    plain = client_from_settings(llm_settings(settings, url))
    off = client_from_settings(llm_settings(settings, url, llm_cache_ttl_seconds=0), pool)
    on = client_from_settings(llm_settings(settings, url), pool)
    assert plain is not None and off is not None and on is not None
    assert (plain.cache, off.cache) == (None, None)
    assert isinstance(on.cache, ResponseCache)


async def test_usage_and_cost_are_added_up_from_the_servers_counts(
    settings: Settings, server: Any
) -> None:
    server.responder = lambda body: fake.Canned(GOOD, prompt_tokens=1000, completion_tokens=500)
    prices = {"llm_price_input_per_mtok": 3.0, "llm_price_output_per_mtok": 15.0}
    client = LLMClient(llm_settings(settings, server.base_url, **prices))
    usage = Usage(model=client.model)
    for _ in range(2):
        usage.add(await client.complete("sys", "user", Judgement, name="judgement"))
    usage.add(Reply(GOOD_VALUE, 0, 0, cached=True))
    await client.close()
    assert (usage.calls, usage.cached_calls, usage.tokens) == (3, 1, 3000)
    # 2 * (1000 * 3 + 500 * 15) / 1e6
    assert usage.cost_usd == pytest.approx(0.021)
    assert cost_usd(Settings(), 10**6, 10**6) == 0.0  # no prices set: no estimate


async def test_embeddings_come_back_in_order_in_batches(settings: Settings, server: Any) -> None:
    values = {
        "embeddings_base_url": server.base_url,
        "embeddings_model": "embed",
        "embeddings_batch_size": 2,
    }
    embedder = embedder_from_settings(llm_settings(settings, server.base_url, **values))
    assert embedder is not None
    texts = ["select user", "render page", "select user", "x"]
    result = await embedder.embed(texts)
    await embedder.close()
    assert [len(body["input"]) for body in server.embedding_requests] == [2, 2]
    assert result.vectors[0] == result.vectors[2] == fake.embedding_of("select user")
    assert result.vectors[1] != result.vectors[0]
    assert result.tokens == 7  # the fake counts words


async def test_a_failing_embeddings_server_is_reported(settings: Settings, server: Any) -> None:
    server.embedding_status = 429
    values = {"embeddings_base_url": server.base_url, "embeddings_model": "embed"}
    embedder = embedder_from_settings(llm_settings(settings, server.base_url, **values))
    assert embedder is not None
    with pytest.raises(LLMUnavailable, match="HTTP 429"):
        await embedder.embed(["a"])
    await embedder.close()
    assert embedder_from_settings(Settings()) is None
