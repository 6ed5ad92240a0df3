"""Record a real model's answers to the hunter's and validator's prompts on the fixture apps.

Runs every fixture app through the real stages (pipeline.py) with the model at ``--base-url``,
through a recording proxy on a loopback port, and writes
``libs/common/tests/recordings/<app>.json``:

- ``model``, ``server``, ``recorded_at``: what answered, and when;
- ``findings``: the app's findings after the static stage and the hunter (what the validator
  starts from), so a test can replay the validator without the scanners or the hunter;
- ``responses``: each answer's raw text, finish reason and token counts, keyed by
  ``fake_openai.recording_key`` (SHA-256 of the schema name and the messages).

``make test`` replays them through the fake OpenAI server (services/validator/tests/
test_replay.py). A prompt change (a new prompt version, other context) misses its recording:
record again. Usage: ``python scripts/llm/record.py --base-url http://127.0.0.1:8081/v1
--model NAME [--server "llama.cpp …"] [--apps python]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from pipeline import LANGUAGES, lab, run_app
from replay import fake_openai


@dataclass
class RecordingProxy:
    """Forwards chat completions to the real server and keeps each answer by prompt key."""

    upstream: str
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._forward)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800))
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"

    async def stop(self) -> None:
        """Stop listening and close the upstream connections."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert self._session is not None
        url = self.upstream.rstrip("/") + "/chat/completions"
        async with self._session.post(url, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status == 200 and answer.get("choices"):
                choice, usage = answer["choices"][0], answer.get("usage") or {}
                name = body["response_format"]["json_schema"]["name"]
                self.responses[fake_openai().recording_key(body)] = {
                    "schema": name,
                    "content": choice["message"].get("content") or "",
                    "finish_reason": choice.get("finish_reason") or "stop",
                    "prompt_tokens": usage.get("prompt_tokens", 0),
                    "completion_tokens": usage.get("completion_tokens", 0),
                }
            return web.json_response(answer, status=response.status)


def _jsonable(finding: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "scanner", "rule_id", "title", "description", "recommendation", "severity", "confidence",
        "cwe", "file_path", "start_line", "end_line", "snippet", "evidence", "fingerprint",
        "provenance",
    )  # fmt: skip
    return {k: finding[k] for k in keep}


async def record(base_url: str, model: str, server: str, apps: Sequence[str]) -> None:
    """Run the apps through the proxy and write one recording per app."""
    folder = fake_openai().RECORDINGS
    folder.mkdir(parents=True, exist_ok=True)
    proxy = RecordingProxy(base_url)
    await proxy.start()
    try:
        async with lab(proxy.base_url, model) as ctx:
            for language in apps:
                proxy.responses = {}
                print(f"{language}: recording", file=sys.stderr, flush=True)
                run = await run_app(ctx, language)
                recording = {
                    "about": "Answers of a real model to Vigil's hunt and validate prompts for"
                    f" the {language} fixture app; written by scripts/llm/record.py.",
                    "model": model,
                    "server": server,
                    "recorded_at": dt.datetime.now(dt.UTC).date().isoformat(),
                    "app": language,
                    "findings": [_jsonable(f) for f in run.hunted],
                    "responses": dict(sorted(proxy.responses.items())),
                }
                path = folder / f"{language}.json"
                path.write_text(json.dumps(recording, indent=1, default=str) + "\n")
                print(f"{language}: {len(proxy.responses)} answers -> {path}", file=sys.stderr)
    finally:
        await proxy.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", required=True, help="the server's /v1 root")
    parser.add_argument("--model", required=True, help="the model name to send and record")
    parser.add_argument("--server", default="", help="what served it, for the record")
    parser.add_argument("--apps", default=",".join(LANGUAGES))
    args = parser.parse_args(argv)
    apps = [a for a in args.apps.split(",") if a]
    asyncio.run(record(args.base_url, args.model, args.server or args.base_url, apps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
