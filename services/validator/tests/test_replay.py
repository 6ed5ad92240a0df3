"""The validator replaying a real model's recorded answers (libs/common/tests/recordings).

scripts/llm/record.py ran the fixture apps through the static stage, the hunter and the
validator with a real model (named in each recording, with the date) and kept every answer by
prompt. Here the fake OpenAI server answers in replay mode, so the validator's real prompts get
the real model's real answers, with no model server. The hunter is not run: its findings come
from the recording. A prompt with no recording (the prompt changed) fails the test: record
again (docs/ai.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import fake_openai
from vigil_common.config import Settings
from vigil_common.findings import insert_findings
from vigil_common.llm import LLMClient
from vigil_common.schemas import Finding, ScanHunted
from vigil_validator import dedup, filters
from vigil_validator.candidates import Candidate, initial
from vigil_validator.handlers import make_handler
from vigil_validator.verdicts import PROMPT_VERSION, Review

fake = fake_openai
fake_llm, js, make_ctx, make_scan, put_tree = (
    fake.fake_llm, fake.js, fake.make_ctx, fake.make_scan, fake.put_tree
)  # fmt: skip

ROOT = Path(__file__).resolve().parents[3]
APPS = ROOT / "services" / "static-scan" / "tests" / "fixtures" / "apps"
RECORDINGS = fake.load_recordings()
pytestmark = pytest.mark.skipif(
    not RECORDINGS, reason="no recordings: run scripts/llm/record.py against a model (docs/ai.md)"
)
APP_NAMES = sorted(RECORDINGS)
FINDING_FIELDS = set(Finding.__struct_fields__)


def tree_of(app: str) -> dict[str, str]:
    """The fixture app's files as stored by ingest (the ground truth left out)."""
    folder = APPS / app
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "ground_truth.json"
    }


def recorded_findings(app: str) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = RECORDINGS[app]["findings"]
    return findings


def verdict_answers(app: str) -> int:
    responses = RECORDINGS[app]["responses"].values()
    return sum(1 for answer in responses if answer["schema"] == "vigil_verdict")


@pytest.mark.parametrize("app", APP_NAMES)
async def test_the_validator_replays_a_real_models_verdicts_end_to_end(
    app: str, make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any,
    fake_llm: Any,
) -> None:  # fmt: skip
    recording = RECORDINGS[app]
    replay = fake.Replay({app: recording})
    fake_llm.responder = replay
    ctx = make_ctx(llm=True, llm_model=recording["model"])
    scan = await make_scan(tenant.org_id, "hunt")
    tree_key, manifest_key = await put_tree(scan["id"], tree_of(app))
    found = recorded_findings(app)
    await insert_findings(
        ctx.pool,
        scan,
        [
            msgspec.convert({k: v for k, v in f.items() if k in FINDING_FIELDS}, Finding)
            for f in found
        ],
    )
    await ctx.pool.executemany(
        "UPDATE findings SET provenance = $3 WHERE scan_id = $1 AND fingerprint = $2",
        [(scan["id"], f["fingerprint"], f["provenance"]) for f in found if f["provenance"]],
    )
    event = ScanHunted(
        scan_id=scan["id"], org_id=tenant.org_id, tree_key=tree_key, manifest_key=manifest_key
    )
    await make_handler(ctx)(event)

    assert replay.misses == [], "prompts changed since the recording: run scripts/llm/record.py"
    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan["id"])
    assert row["status"] == "completed" and row["summary"]
    # The validator asked exactly the questions the recording answered, no more, no fewer.
    assert len(fake_llm.requests) == verdict_answers(app)
    assert row["llm_usage"]["validate"]["calls"] == verdict_answers(app)
    rows = await ctx.pool.fetch("SELECT * FROM findings WHERE scan_id = $1", scan["id"])
    judged = [r for r in rows if "verdict" in r["provenance"]]
    assert len(judged) == verdict_answers(app)
    for finding in judged:
        verdict = finding["provenance"]["verdict"]
        assert (verdict["model"], verdict["prompt_version"]) == (recording["model"], PROMPT_VERSION)
        first, last = verdict["evidence_lines"]
        assert first <= finding["start_line"] <= finding["end_line"] <= last
        assert verdict["confidence"] in {"high", "medium", "low"}
        if verdict["verdict"] == "false_positive" and finding["severity"] == "critical":
            # The critical guard: the model alone never filters a critical finding.
            assert (finding["status"], finding["confidence"]) == ("reported", "low")
        elif verdict["verdict"] == "false_positive" and finding["status"] == "filtered":
            # Only a sure verdict on a finding its rule was not sure of filters it.
            assert verdict["confidence"] == "high"
            assert finding["filter_reason"].startswith("the model judged it a false positive: ")
        elif verdict["verdict"] == "false_positive":
            assert (finding["status"], finding["confidence"]) == ("reported", "low")
        else:
            assert finding["status"] == "reported"
    for finding in rows:
        if finding["scanner"] == "ai" and finding["rule_id"].startswith("ai.cwe-"):
            assert finding["provenance"]["model"] == recording["model"]


async def test_replayed_verdicts_are_the_recorded_ones_and_repeatable(fake_llm: Any) -> None:
    app = APP_NAMES[0]
    recording = RECORDINGS[app]
    fake_llm.responder = fake.Replay({app: recording})
    settings = Settings(
        llm_base_url=fake_llm.base_url, llm_model=recording["model"], llm_max_retries=0
    )
    sources = {path: text.splitlines() for path, text in tree_of(app).items()}
    candidates = [
        msgspec.convert(
            {**{k: v for k, v in f.items() if k in Candidate.__struct_fields__},
             "id": uuid.uuid4()},
            Candidate,
        )
        for f in recorded_findings(app)
        if not (f["scanner"] == "ai" and f["rule_id"] == "ai.prompt-injection-text")
    ]  # fmt: skip
    outcomes = []
    for _ in range(2):
        # The validator's own steps before the model: the same prompts as in the recording.
        decisions = {c.id: initial(c) for c in candidates}
        kept = dedup.deduplicate(candidates, decisions)
        for candidate in kept:
            reason = filters.first_reason(candidate, sources.get(candidate.file_path))
            if reason is not None:
                decisions[candidate.id].dismiss(reason)
        review = Review(LLMClient(settings), False, 1000, time.monotonic() + 600)
        await review.run(kept, decisions, sources)
        assert review.judged == verdict_answers(app)
        assert review.stopped is None and review.usage.failures == 0
        outcomes.append([(d.status, d.confidence, d.filter_reason) for d in decisions.values()])
    assert outcomes[0] == outcomes[1]
    assert fake_llm.responder.misses == []
