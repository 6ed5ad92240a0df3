"""One scan's hunt: choose files, retrieve context, ask the model file by file, keep the guarded.

The hunter's findings are optional. A model server that stops answering ends the hunt early
(what was found so far is kept); an unusable answer costs only its file. Cancellation is
checked between files; the hunt stops before the stage's time limit and before a file whose
estimated prompt no longer fits in what is left of the scan's token budget (tokens the server
reported as used; answers from the cache cost none). Files are asked about one at a time: the
model server is the bottleneck, and the worker's concurrency already runs scans side by side.
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
from vigil_ai_hunter.answers import Dropped, HuntAnswer, Provenance, accept
from vigil_ai_hunter.context import CodeIndex, build_index, embed_index, retrieve
from vigil_ai_hunter.injection import scan_texts
from vigil_ai_hunter.prompts import PROMPT_VERSION, SYSTEM, hunt_prompt
from vigil_common import scans
from vigil_common.db import Pool
from vigil_common.llm import Embedder, LLMBadAnswer, LLMClient, LLMError, LLMUnavailable, Usage
from vigil_common.schemas import Finding, TreeManifest
from vigil_common.trees import read_files

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
    dropped: Dropped = field(default_factory=Dropped)
    bad_answers: int = 0
    # Why retrieval fell back to lexical only, when an embeddings server failed.
    embeddings_failed: str | None = None
    stopped: str | None = None
    cancelled: bool = False
    usage: Usage = field(default_factory=Usage)

    def note(self, model: str) -> str:
        """The history line: what was asked, found and dropped, and why it stopped early."""
        dropped = sum(self.dropped.values())
        text = f"model {model}: asked about {self.asked} of {self.chosen} chosen files"
        if self.usage.cached_calls:
            text += f" ({self.usage.cached_calls} answered from the cache)"
        text += f", {len(self.findings)} findings, {dropped} dropped by the guard"
        if dropped:
            text += f" ({self.dropped.describe()})"
        if self.embeddings_failed:
            text += f", retrieval without embeddings: {self.embeddings_failed}"
        if self.bad_answers:
            text += f", {self.bad_answers} unusable answers"
        if self.injections:
            text += f", {len(self.injections)} lines addressed to an AI reported"
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


def read_code(archive: Path, manifest: TreeManifest, chosen: Sequence[str]) -> dict[str, str]:
    """The text of the chosen files, then of other code files to index, within a byte cap,
    read from the packed tree ``archive`` (nothing is unpacked to disk)."""
    limit = selection.MAX_FILE_TOKENS * selection.BYTES_PER_TOKEN * 4
    sizes = {e.path: e.size for e in manifest.files if e.language in selection.CODE_LANGUAGES}
    others = sorted(path for path, size in sizes.items() if size <= limit)
    wanted: list[str] = []
    spent = 0
    for path in dict.fromkeys([*chosen, *others]):
        if path not in chosen and spent + sizes[path] > MAX_INDEX_BYTES:
            continue
        wanted.append(path)
        spent += sizes.get(path, 0)
    contents = read_files(archive, set(wanted))
    return {
        path: contents[path].decode("utf-8", errors="replace")
        for path in wanted
        if path in contents
    }


def _context_injections(
    shown: Mapping[str, set[int]], texts: Mapping[str, str], known: Sequence[Finding]
) -> list[Finding]:
    """Lines addressed to an AI in the context snippets shown, not already reported.

    Context reaches the model as much as the file asked about does.
    """
    seen = {f.fingerprint for f in known}
    found = scan_texts({path: texts[path] for path in shown})
    return [f for f in found if f.start_line in shown[f.file_path] and f.fingerprint not in seen]


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
    token_budget: int
    # The response cache's scope (the organisation); None turns the cache off.
    scope: str | None = None
    embedder: Embedder | None = None
    max_embedded_chunks: int = 2000
    result: HuntResult = field(default_factory=HuntResult)

    async def run(
        self,
        chosen: Sequence[selection.Candidate],
        texts: Mapping[str, str],
        static: Sequence[Finding],
    ) -> HuntResult:
        """Ask about the chosen files in order until done, stopped, cancelled or out of time."""
        self.result.chosen = len(chosen)
        self.result.usage.model = self.client.model
        self.result.injections = scan_texts({c.path: texts[c.path] for c in chosen})
        shown: dict[str, set[int]] = {}
        index = await asyncio.to_thread(build_index, texts)
        await self._embed(index, {c.path: texts[c.path] for c in chosen})
        for candidate in chosen:
            if await self._should_stop(candidate):
                break
            text = texts[candidate.path]
            in_file = [f for f in static if f.file_path == candidate.path]
            # In a thread: scoring a whole tree's chunks must not stall the event loop.
            context = await asyncio.to_thread(
                retrieve, candidate.path, text, index, in_file, candidate.endpoints
            )
            prompt = hunt_prompt(candidate.path, candidate.language, text, context)
            for definition in context.definitions:
                first = definition.start_line
                lines = range(first, first + len(definition.code.splitlines()))
                shown.setdefault(definition.path, set()).update(lines)
            if not await self._ask(candidate.path, texts, prompt):
                break
        self.result.injections += _context_injections(shown, texts, self.result.injections)
        return self.result

    async def _embed(self, index: CodeIndex, files: Mapping[str, str]) -> None:
        """Add embeddings to the index when a server is set; lexical retrieval if it fails."""
        if self.embedder is None:
            return
        try:
            tokens = await embed_index(index, self.embedder, files, self.max_embedded_chunks)
        except LLMError as exc:
            self.result.embeddings_failed = exc.reason
            extra = {"scan_id": str(self.scan_id), "reason": exc.reason}
            log.warning("embeddings failed, retrieval is lexical", extra=extra)
            return
        self.result.usage.embedding_tokens += tokens

    async def _should_stop(self, candidate: selection.Candidate) -> bool:
        if await is_ended(self.pool, self.scan_id):
            self.result.cancelled = True
            return True
        if time.monotonic() > self.deadline:
            self.result.stopped = "the stage's time limit was near"
            return True
        if self.result.usage.tokens + candidate.tokens > self.token_budget:
            self.result.stopped = f"the scan's token budget of {self.token_budget} was spent"
            return True
        return False

    async def _ask(self, path: str, texts: Mapping[str, str], prompt: str) -> bool:
        """Ask about one file; False when the server is down and the hunt should stop."""
        self.result.asked += 1
        try:
            reply = await self.client.complete(
                SYSTEM, prompt, HuntAnswer, name="vigil_hunt", scope=self.scope
            )
        except LLMUnavailable as exc:
            self.result.usage.failures += 1
            self.result.stopped = exc.reason
            return False
        except LLMBadAnswer as exc:
            self.result.usage.failures += 1
            self.result.bad_answers += 1
            extra = {"scan_id": str(self.scan_id), "reason": exc.reason}
            log.warning("unusable answer skipped", extra=extra)
            return True
        self.result.usage.add(reply)
        kept, dropped = accept(reply.value, path, texts)
        self.result.dropped.update(dropped)
        self.result.findings += [
            (finding, Provenance(self.client.model, PROMPT_VERSION, reasoning))
            for finding, reasoning in kept
        ]
        return True
