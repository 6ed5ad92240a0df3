"""One scan's hunt: choose files, retrieve context, ask the model file by file, keep the guarded.

The hunter's findings are optional. A model server that stops answering ends the hunt early
(what was found so far is kept); an unusable answer costs only its file. Cancellation is
checked between files, and the hunt stops before the stage's time limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from vigil_ai_hunter import selection
from vigil_ai_hunter.answers import HuntAnswer, Provenance, accept
from vigil_ai_hunter.context import build_index, retrieve
from vigil_ai_hunter.injection import scan_texts
from vigil_ai_hunter.prompts import PROMPT_VERSION, SYSTEM, hunt_prompt
from vigil_common import scans
from vigil_common.db import Pool
from vigil_common.llm import LLMBadAnswer, LLMClient, LLMUnavailable, Usage
from vigil_common.schemas import Finding, TreeManifest

log = logging.getLogger(__name__)

# Part of the stage's time limit the hunt may use; the rest is for writing and publishing.
TIME_SHARE: Final = 0.7
# Source read for the definition index: a huge tree must not fill the worker's memory.
MAX_INDEX_BYTES: Final = 16 * 1024 * 1024


@dataclass
class HuntResult:
    """What one hunt found and spent, and why it stopped early if it did."""

    chosen: int = 0
    asked: int = 0
    findings: list[tuple[Finding, Provenance]] = field(default_factory=list)
    # Lines addressed to an AI, found by a deterministic rule (injection.py), not the model.
    injections: list[Finding] = field(default_factory=list)
    dropped: int = 0
    bad_answers: int = 0
    stopped: str | None = None
    cancelled: bool = False
    usage: Usage = field(default_factory=Usage)

    def note(self, model: str) -> str:
        """The history line: what was asked, found and dropped, and why it stopped early."""
        text = (
            f"model {model}: asked about {self.asked} of {self.chosen} chosen files,"
            f" {len(self.findings)} findings, {self.dropped} dropped by the line/CWE guard"
        )
        if self.bad_answers:
            text += f", {self.bad_answers} unusable answers"
        if self.injections:
            text += f", {len(self.injections)} lines addressed to an AI reported"
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


def read_code(tree: Path, manifest: TreeManifest, chosen: Sequence[str]) -> dict[str, str]:
    """The text of the chosen files, then of other code files to index, within a byte cap."""
    limit = selection.MAX_FILE_TOKENS * selection.BYTES_PER_TOKEN * 4
    sizes = {e.path: e.size for e in manifest.files if e.language in selection.CODE_LANGUAGES}
    others = sorted(path for path, size in sizes.items() if size <= limit)
    texts: dict[str, str] = {}
    spent = 0
    for path in dict.fromkeys([*chosen, *others]):
        if path not in chosen and spent + sizes[path] > MAX_INDEX_BYTES:
            continue
        texts[path] = (tree / path).read_text("utf-8", errors="replace")
        spent += sizes.get(path, 0)
    return texts


async def is_ended(pool: Pool, scan_id: uuid.UUID) -> bool:
    """True once the scan reached a terminal state (e.g. it was cancelled)."""
    status = await pool.fetchval("SELECT status FROM scans WHERE id = $1", scan_id)
    return status in scans.TERMINAL


@dataclass
class Hunt:
    """The hunt over one scan's tree."""

    pool: Pool
    client: LLMClient
    scan_id: uuid.UUID
    deadline: float
    result: HuntResult = field(default_factory=HuntResult)

    async def run(
        self,
        chosen: Sequence[selection.Candidate],
        texts: Mapping[str, str],
        static: Sequence[Finding],
    ) -> HuntResult:
        """Ask about the chosen files in order until done, stopped, cancelled or out of time."""
        self.result.chosen = len(chosen)
        self.result.injections = scan_texts({c.path: texts[c.path] for c in chosen})
        index = await asyncio.to_thread(build_index, texts)
        for candidate in chosen:
            if await self._should_stop():
                break
            in_file = [f for f in static if f.file_path == candidate.path]
            context = retrieve(candidate.path, texts[candidate.path], index, in_file)
            prompt = hunt_prompt(candidate.path, candidate.language, texts[candidate.path], context)
            if not await self._ask(candidate.path, texts[candidate.path], prompt):
                break
        return self.result

    async def _should_stop(self) -> bool:
        if await is_ended(self.pool, self.scan_id):
            self.result.cancelled = True
            return True
        if time.monotonic() > self.deadline:
            self.result.stopped = "the stage's time limit was near"
            return True
        return False

    async def _ask(self, path: str, text: str, prompt: str) -> bool:
        """Ask about one file; False when the server is down and the hunt should stop."""
        self.result.asked += 1
        try:
            reply = await self.client.complete(SYSTEM, prompt, HuntAnswer, name="vigil_hunt")
        except LLMUnavailable as exc:
            self.result.usage.failures += 1
            self.result.stopped = exc.reason
            return False
        except LLMBadAnswer as exc:
            self.result.usage.failures += 1
            self.result.bad_answers += 1
            log.warning("unusable answer skipped", extra={"reason": exc.reason})
            return True
        self.result.usage.add(reply)
        kept, dropped = accept(reply.value, path, text)
        self.result.dropped += dropped
        self.result.findings += [
            (finding, Provenance(self.client.model, PROMPT_VERSION, reasoning))
            for finding, reasoning in kept
        ]
        return True
