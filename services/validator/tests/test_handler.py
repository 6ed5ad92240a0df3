"""The real validator handler against PostgreSQL, S3, NATS and a local OpenAI-protocol server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from nats.js import JetStreamContext

from conftest import fake_openai
from vigil_common.findings import insert_findings
from vigil_common.schemas import Finding, ScanCompleted, ScanHunted
from vigil_common.subjects import SCAN_COMPLETED, STREAM
from vigil_validator.handlers import NO_LLM_NOTE, make_handler

fake = fake_openai
fake_llm, js, make_ctx, make_scan, put_tree = (
    fake.fake_llm, fake.js, fake.make_ctx, fake.make_scan, fake.put_tree
)  # fmt: skip

TREE = {
    "app/db.py": (
        "import sqlite3\n\n\ndef find(name):\n"
        "    return sqlite3.connect('a').execute(\"SELECT * FROM u WHERE n = '\" + name + \"'\")\n"
    ),
    "app/crypto.py": "import hashlib\n\n\ndef etag(b):\n    return hashlib.md5(b).hexdigest()\n",
    "app/settings.py": 'DEBUG = False\nAPI_KEY = "changeme"\n',
    "app/shell.py": "import os\n\n\ndef run(cmd):\n    os.system(cmd)\n",
    "tests/test_db.py": 'def test_find():\n    find("x\' OR 1=1")\n',
}


def finding(scanner: str, rule_id: str, path: str, line: int, **fields: Any) -> Finding:
    values: dict[str, Any] = {
        "title": rule_id,
        "severity": "high",
        "confidence": "high",
        "cwe": ("CWE-89",),
        **fields,
    }
    return Finding(
        scanner=scanner,
        rule_id=rule_id,
        file_path=path,
        start_line=line,
        end_line=line,
        fingerprint=f"{scanner}:{rule_id}:{path}:{line}",
        **values,
    )


FINDINGS = [
    finding("semgrep", "python.sqli", "app/db.py", 5),
    finding("ai", "ai.cwe-89", "app/db.py", 5, severity="critical", confidence="medium"),
    finding(
        "semgrep",
        "python.md5",
        "app/crypto.py",
        5,
        severity="medium",
        confidence="medium",
        cwe=("CWE-328",),
    ),
    finding("semgrep", "generic.hardcoded-secret", "app/settings.py", 2, cwe=("CWE-798",)),
    finding("semgrep", "python.os-system", "app/shell.py", 5, severity="critical", cwe=("CWE-78",)),
    finding("semgrep", "python.sqli", "tests/test_db.py", 2),
]


async def setup(ctx: Any, make_scan: Any, put_tree: Any, tenant: Any) -> tuple[Any, ScanHunted]:
    scan = await make_scan(tenant.org_id, "hunt")
    tree_key, manifest_key = await put_tree(scan["id"], TREE)
    await insert_findings(ctx.pool, scan, FINDINGS)
    event = ScanHunted(
        scan_id=scan["id"], org_id=tenant.org_id, tree_key=tree_key, manifest_key=manifest_key
    )
    return scan, event


async def rows(ctx: Any, scan_id: uuid.UUID) -> dict[str, Any]:
    found = await ctx.pool.fetch("SELECT * FROM findings WHERE scan_id = $1", scan_id)
    return {row["fingerprint"]: row for row in found}


async def completed(js: JetStreamContext, scan_id: uuid.UUID) -> ScanCompleted:
    message = await js.get_last_msg(STREAM, SCAN_COMPLETED)
    event = msgspec.json.decode(message.data or b"", type=ScanCompleted)
    assert event.scan_id == scan_id
    return event


async def note(ctx: Any, scan_id: uuid.UUID, name: str) -> str | None:
    query = "SELECT detail FROM scan_events WHERE scan_id = $1 AND name = $2"
    detail: str | None = await ctx.pool.fetchval(query, scan_id, name)
    return detail


async def test_without_an_llm_merges_filters_with_reasons_scores_and_completes(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any
) -> None:
    ctx = make_ctx()
    scan, event = await setup(ctx, make_scan, put_tree, tenant)
    await make_handler(ctx)(event)

    found = await rows(ctx, scan["id"])
    sqli = found["semgrep:python.sqli:app/db.py:5"]
    assert (sqli["status"], sqli["severity"], sqli["reported_by"]) == (
        "reported",
        "critical",
        ["ai", "semgrep"],
    )
    ai = found["ai:ai.cwe-89:app/db.py:5"]
    assert (ai["status"], ai["duplicate_of"]) == ("filtered", sqli["id"])
    assert ai["filter_reason"] == "duplicate of the semgrep finding python.sqli at app/db.py:5"
    secret = found["semgrep:generic.hardcoded-secret:app/settings.py:2"]
    assert secret["filter_reason"] == "the secret is a placeholder, not a credential"
    in_tests = found["semgrep:python.sqli:tests/test_db.py:2"]
    assert (
        in_tests["filter_reason"] == "in test code, which is not part of the deployed application"
    )
    reported = sorted(k for k, r in found.items() if r["status"] == "reported")
    assert reported == [
        "semgrep:python.md5:app/crypto.py:5",
        "semgrep:python.os-system:app/shell.py:5",
        "semgrep:python.sqli:app/db.py:5",
    ]

    scan_row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan["id"])
    # Two high-confidence criticals (80), a medium-confidence medium (3.75): 100 - 83.75 = 16.
    assert (scan_row["status"], scan_row["score"], scan_row["grade"]) == ("completed", 16, "F")
    assert scan_row["finding_counts"] == {
        "critical": 2,
        "high": 0,
        "medium": 1,
        "low": 0,
        "info": 0,
    }
    assert await note(ctx, scan["id"], "validate.done") == (
        f"6 candidates: 1 duplicates merged, 2 filtered by rules; {NO_LLM_NOTE}"
    )
    sent = await completed(ctx.js, scan["id"])
    assert (sent.findings, sent.score, sent.grade) == (3, 16, "F")


def judge(body: dict[str, Any]) -> Any:
    """The md5 etag and the os.system call are false positives, surely; the rest are real."""
    prompt = fake.prompt_of(body)
    false_positive = "python.md5" in prompt or "python.os-system" in prompt
    return fake.Canned(
        {
            "reasoning": "looked at the data flow",
            "verdict": "false_positive" if false_positive else "true_positive",
            "confidence": "high",
            "reason": "not attacker-controlled" if false_positive else "user input reaches it",
        }
    )


async def test_by_default_llm_verdicts_only_lower_confidence_with_their_reasons(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any, fake_llm: Any
) -> None:
    fake_llm.responder = judge
    ctx = make_ctx(llm=True)
    scan, event = await setup(ctx, make_scan, put_tree, tenant)
    await make_handler(ctx)(event)

    found = await rows(ctx, scan["id"])
    md5 = found["semgrep:python.md5:app/crypto.py:5"]
    assert (md5["status"], md5["confidence"]) == ("reported", "low")
    assert md5["provenance"]["verdict"]["reason"] == "not attacker-controlled"
    assert (await note(ctx, scan["id"], "validate.done") or "").endswith(
        "model fake-model judged 3 and filtered 0"
    )


async def test_llm_verdicts_filter_with_reasons_when_allowed_but_only_lower_a_critical(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any, fake_llm: Any
) -> None:
    fake_llm.responder = judge
    ctx = make_ctx(llm=True, llm_may_filter=True)
    scan, event = await setup(ctx, make_scan, put_tree, tenant)
    await make_handler(ctx)(event)

    assert len(fake_llm.requests) == 3  # only the findings the rules left reported
    found = await rows(ctx, scan["id"])
    md5 = found["semgrep:python.md5:app/crypto.py:5"]
    assert md5["status"] == "filtered"
    assert md5["filter_reason"] == "the model judged it a false positive: not attacker-controlled"
    assert md5["provenance"]["verdict"] == {
        "model": "fake-model",
        "prompt_version": "validate-1",
        "verdict": "false_positive",
        "confidence": "high",
        "reason": "not attacker-controlled",
        "evidence_lines": [1, 5],
    }
    shell = found["semgrep:python.os-system:app/shell.py:5"]
    assert (shell["status"], shell["confidence"]) == ("reported", "low")
    sqli = found["semgrep:python.sqli:app/db.py:5"]
    assert (sqli["status"], sqli["provenance"]["verdict"]["verdict"]) == (
        "reported",
        "true_positive",
    )

    scan_row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan["id"])
    # Criticals at high (40) and low (20) confidence: 100 - 60 = 40.
    assert (scan_row["score"], scan_row["grade"]) == (40, "F")
    assert scan_row["llm_usage"]["validate"]["calls"] == 3
    assert (await note(ctx, scan["id"], "validate.done") or "").endswith(
        "model fake-model judged 3 and filtered 1"
    )
    assert (await completed(ctx.js, scan["id"])).score == 40


async def test_a_failing_llm_is_recorded_and_the_findings_stay_reported(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any, fake_llm: Any
) -> None:
    fake_llm.responder = lambda body: fake.Canned(status=503)
    ctx = make_ctx(llm=True)
    scan, event = await setup(ctx, make_scan, put_tree, tenant)
    await make_handler(ctx)(event)

    reason = "the model server answered HTTP 503"
    assert await note(ctx, scan["id"], "validate.llm_failed") == reason
    assert (await note(ctx, scan["id"], "validate.done") or "").endswith(
        f"LLM validation stopped early: {reason}"
    )
    found = await rows(ctx, scan["id"])
    assert sum(r["status"] == "reported" for r in found.values()) == 3
    sent = await completed(ctx.js, scan["id"])
    assert (sent.findings, sent.grade) == (3, "F")


async def test_a_repeated_delivery_reaches_the_same_decisions(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any
) -> None:
    ctx = make_ctx()
    scan, event = await setup(ctx, make_scan, put_tree, tenant)
    await make_handler(ctx)(event)
    first = {k: (r["status"], r["filter_reason"]) for k, r in (await rows(ctx, scan["id"])).items()}
    await ctx.pool.execute("UPDATE scans SET status = 'running' WHERE id = $1", scan["id"])
    await make_handler(ctx)(event)
    again = {k: (r["status"], r["filter_reason"]) for k, r in (await rows(ctx, scan["id"])).items()}
    assert again == first
