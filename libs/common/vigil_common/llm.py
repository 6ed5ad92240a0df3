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

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import msgspec
import openai
from openai import AsyncOpenAI

from vigil_common.config import Settings
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
    """Tokens and calls one stage spent on one scan (stored in ``scans.llm_usage``)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0

    def add(self, reply: Reply[Any]) -> None:
        """Count one answered call."""
        self.calls += 1
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens


@dataclass(frozen=True)
class Reply(Generic[T]):
    """A decoded answer and what it cost."""

    value: T
    prompt_tokens: int
    completion_tokens: int


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


class LLMClient:
    """Structured chat completions from one model; safe to share between tasks."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.llm_base_url and settings.llm_model):
            raise ValueError("VIGIL_LLM_BASE_URL and VIGIL_LLM_MODEL are required")
        self.model = settings.llm_model
        self.max_tokens = settings.llm_max_tokens
        self._client = AsyncOpenAI(
            base_url=settings.llm_base_url,
            # Local servers (llama-server, vLLM, Ollama) need no key, but the SDK wants one.
            api_key=settings.llm_api_key or "not-needed",
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )

    async def complete(
        self, system: str, user: str, answer_type: type[T], *, name: str
    ) -> Reply[T]:
        """Ask for an answer shaped as ``answer_type``; raise :class:`LLMError` if none usable."""
        started = time.monotonic()
        response = await self._create(system, user, answer_type, name)
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise LLMBadAnswer("the model server sent no answer")
        choice = choices[0]
        if choice.finish_reason == "length":
            raise LLMBadAnswer(f"the model's answer was cut off at {self.max_tokens} tokens")
        value = decode_answer(choice.message.content or "", answer_type)
        usage = getattr(response, "usage", None)
        reply = Reply(
            value,
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
        )
        log.debug(
            "llm answered",
            extra={"schema": name, "seconds": round(time.monotonic() - started, 3)},
        )
        return reply

    async def _create(self, system: str, user: str, answer_type: type[T], name: str) -> Any:
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
                    "json_schema": {
                        "name": name,
                        "schema": json_schema(answer_type),
                        "strict": True,
                    },
                },
            )
        except openai.APITimeoutError as exc:
            raise LLMUnavailable("the model server timed out") from exc
        except openai.APIConnectionError as exc:
            raise LLMUnavailable("the model server is unreachable") from exc
        except openai.APIStatusError as exc:
            raise LLMUnavailable(f"the model server answered HTTP {exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise LLMBadAnswer(
                f"the model server's answer was unusable ({type(exc).__name__})"
            ) from exc

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()


def client_from_settings(settings: Settings) -> LLMClient | None:
    """The configured client, or ``None`` when no LLM is configured (stages then skip it)."""
    if not (settings.llm_base_url and settings.llm_model):
        return None
    return LLMClient(settings)
