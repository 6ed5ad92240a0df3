"""Builds a finished scan in the test database from the Python fixture app of static-scan.

The app's ground truth (``services/static-scan/tests/fixtures/apps/python``) gives real files,
lines and CWEs: each vulnerability becomes a reported finding with its real line as snippet,
each safe look-alike a filtered one, plus a masked secret. The findings go through
``vigil_common.findings.insert_findings`` and the score through the validator's scoring, as in
the pipeline. Loaded by path from the test modules (test folders are not packages).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from vigil_common.db import Pool
from vigil_common.findings import fingerprint, insert_findings, severity_counts
from vigil_common.scans import record_event
from vigil_common.schemas import Finding, Severity
from vigil_validator import scoring

ROOT: Final = Path(__file__).resolve().parents[3]
APP: Final = ROOT / "services" / "static-scan" / "tests" / "fixtures" / "apps" / "python"
SEVERITY_BY_CWE: Final[dict[str, Severity]] = {
    "CWE-78": "critical", "CWE-95": "critical", "CWE-502": "critical",
    "CWE-89": "high", "CWE-22": "high", "CWE-918": "high", "CWE-1336": "high", "CWE-347": "high",
    "CWE-79": "medium", "CWE-601": "medium", "CWE-295": "medium", "CWE-862": "medium",
    "CWE-915": "medium", "CWE-614": "low", "CWE-328": "low", "CWE-338": "low", "CWE-489": "info",
}  # fmt: skip
SECRET_EVIDENCE: Final = "generic-api-key sk_live_****abcd"


@dataclass(frozen=True)
class BuiltScan:
    """What the tests compare the reports with."""

    scan_id: uuid.UUID
    score: int
    grade: str
    counts: dict[str, int]
    reported: int
    filtered: int


def _line(path: str, number: int) -> str:
    return (APP / path).read_text().splitlines()[number - 1]


def _finding(entry: dict[str, object], title: str | None = None) -> Finding:
    path, line, cwe = str(entry["file"]), int(str(entry["line"])), str(entry["cwe"])
    snippet = _line(path, line)
    rule = f"python.{cwe.lower()}.{path.removesuffix('.py')}"
    return Finding(
        scanner="semgrep", rule_id=rule, title=title or f"{entry['note']} ({cwe})",
        severity=SEVERITY_BY_CWE.get(cwe, "medium"), confidence="high",
        description=f"Ground truth: {entry['note']}.", recommendation=f"Fix the {cwe} weakness.",
        cwe=(cwe,), owasp=("A03:2021",), file_path=path, start_line=line, end_line=line,
        snippet=snippet, fingerprint=fingerprint("semgrep", rule, path, f"{snippet}#{line}"),
    )  # fmt: skip


def _secret() -> Finding:
    return Finding(
        scanner="betterleaks", rule_id="generic-api-key", title="Hard-coded API key",
        severity="high", confidence="high", cwe=("CWE-798",), file_path="config.py",
        start_line=5, end_line=5, snippet='SECRET_KEY = "sk_live_****abcd"',
        evidence=SECRET_EVIDENCE, fingerprint=fingerprint("betterleaks", "k", "config.py", "5"),
    )  # fmt: skip


async def _scan_row(pool: Pool, org_id: uuid.UUID, status: str) -> dict[str, uuid.UUID]:
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        org_id, f"notes-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, archive_format, status, stage,"
        " total_files, included_files, ignored_files, risky_skipped_files, total_bytes,"
        " languages, created_at, started_at)"
        " VALUES ($1, $2, $3, 'upload', 'zip', $4, $5, 5, 4, 1, 0, 9000, $6, now(), now())",
        scan_id, org_id, project_id, status, "static" if status == "running" else None,
        {"python": 4, "json": 1},
    )  # fmt: skip
    for name in ("queued", "ingest.started", "ingest.done", "static.started"):
        await record_event(pool, scan_id, name, "running" if "." in name else name)
    return {"id": scan_id, "org_id": org_id, "project_id": project_id}


async def build_scan(
    pool: Pool, org_id: uuid.UUID, *, status: str = "completed", title: str | None = None
) -> BuiltScan:
    """A scan of the fixture app; ``title`` replaces the first finding's title."""
    truth = json.loads((APP / "ground_truth.json").read_text())
    scan = await _scan_row(pool, org_id, status)
    vulnerable = [_finding(e) for e in truth["vulnerabilities"]]
    if title is not None:
        vulnerable[0] = _finding(truth["vulnerabilities"][0], title)
    safe = [_finding(e) for e in truth["safe"]]
    await insert_findings(pool, scan, [*vulnerable, _secret(), *safe])
    await pool.execute(
        "UPDATE findings SET status = 'filtered', filter_reason = CASE WHEN start_line % 2 = 0"
        " THEN 'the model judged it a false positive: ' || title"
        " ELSE 'duplicate of the semgrep finding x at app.py:' || start_line END"
        " WHERE scan_id = $1 AND description LIKE 'Ground truth: %' AND fingerprint = ANY($2)",
        scan["id"], [f.fingerprint for f in safe],
    )  # fmt: skip
    counts = await severity_counts(pool, scan["id"])
    rows = await pool.fetch(
        "SELECT severity, confidence FROM findings WHERE scan_id = $1 AND status = 'reported'",
        scan["id"],
    )
    score = scoring.score((r["severity"], r["confidence"]) for r in rows)
    grade = scoring.grade(score)
    if status != "running":
        await pool.execute(
            "UPDATE scans SET status = $2, score = $3, grade = $4, finding_counts = $5,"
            " finished_at = now(), stage = NULL WHERE id = $1",
            scan["id"], status, score, grade, counts,
        )  # fmt: skip
        await record_event(pool, scan["id"], status, status)
    return BuiltScan(scan["id"], score, grade, counts, sum(counts.values()), len(safe))
