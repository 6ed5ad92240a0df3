"""The LLM client with the real ``openai`` SDK against a local OpenAI-protocol server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import pytest

from conftest import fake_openai
from vigil_common.config import Settings
from vigil_common.llm import (
    LLMBadAnswer,
    LLMClient,
    LLMUnavailable,
    client_from_settings,
    decode_answer,
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
