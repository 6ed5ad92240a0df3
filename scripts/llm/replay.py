"""Serve the recorded answers (libs/common/tests/recordings) on a loopback port.

The same fake OpenAI server the tests use, in replay mode: ``eval.py --replay`` runs the
pipeline against it, so the figures in docs/ai.md can be reproduced without a model.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
FAKE_OPENAI: Final = ROOT / "libs" / "common" / "tests" / "fake_openai.py"


def fake_openai() -> ModuleType:
    """The tests' fake OpenAI server module, loaded by path (tests folders are not packages)."""
    module = sys.modules.get("fake_openai")
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location("fake_openai", FAKE_OPENAI)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_openai"] = module
    spec.loader.exec_module(module)
    return module


@contextlib.asynccontextmanager
async def replay_server(*apps: str) -> AsyncIterator[tuple[str, str, Any]]:
    """A started replay server: its base URL, the recorded model's name, and the responder."""
    fake = fake_openai()
    recordings = fake.load_recordings(*apps)
    if not recordings:
        raise SystemExit(f"no recordings in {fake.RECORDINGS}: run scripts/llm/record.py first")
    models = {r["model"] for r in recordings.values()}
    responder = fake.Replay(recordings)
    server = fake.FakeOpenAI(responder=responder)
    await server.start()
    try:
        yield server.base_url, ", ".join(sorted(models)), responder
    finally:
        await server.stop()
