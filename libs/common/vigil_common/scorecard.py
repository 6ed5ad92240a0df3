"""A scan's scorecard: security score and grade, launch readiness, blocking items, summary.

Everything here is computed from the scan's *reported* findings (filtered ones cost nothing),
deterministically and without a model, so the validator (after its verdicts) and the gateway
(after a person restores a filtered finding) write the same figures. The formulas are
documented in docs/ai.md and tested as tables in services/validator/tests/.

- **Security score** (0-100): 100 minus the confidence-weighted severity points of the
  reported findings; the grade follows it. An MCP server with a high or critical MCP-category
  finding is capped at 69 (grade D at best).
- **Launch readiness** (0-100): the security score when nothing blocks a launch; otherwise at
  most 49, and 10 less for each further kind of blocking item. Blocking items: reported
  critical findings, hard-coded secrets, admin routes without authentication, high or critical
  vulnerable dependencies with a fixed version published, and (MCP servers) high or critical
  MCP findings.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal

import msgspec

from vigil_common.db import Executor
from vigil_common.schemas import Confidence, Severity

Grade = Literal["A", "B", "C", "D", "F"]
BlockerKind = Literal["critical", "secret", "unauthenticated_admin", "fixable_dependency", "mcp"]

SEVERITY_POINTS: Final[dict[str, float]] = {
    "critical": 40,
    "high": 15,
    "medium": 5,
    "low": 1,
    "info": 0,
}
CONFIDENCE_FACTOR: Final[dict[str, float]] = {"high": 1.0, "medium": 0.75, "low": 0.5}
# Lowest score for each grade, best first; below the last is F.
GRADE_FLOORS: Final[tuple[tuple[int, Grade], ...]] = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))
SEVERITY_ORDER: Final = ("critical", "high", "medium", "low", "info")

# With any blocking item the readiness is at most this (not ready), less per further kind.
BLOCKED_CEILING: Final = 49
PER_EXTRA_BLOCKER: Final = 10
# An MCP server with a high+ MCP-category finding scores at most this (grade D at best).
MCP_SCORE_CAP: Final = 69

SECRET_CWES: Final = frozenset({"CWE-798", "CWE-259", "CWE-321", "CWE-547"})
SECRET_SCANNERS: Final = frozenset({"secrets"})
# Missing authentication (CWE-306) or authorisation (CWE-862) for a critical function.
ADMIN_AUTH_CWES: Final = frozenset({"CWE-306"})
_ADMIN_PATH: Final = re.compile(r"(^|/)(admin|_admin|administrator|superuser)(/|$|\W)", re.I)
# MCP-category rules (metadata ``category: mcp``): Vigil's packs name them
# ``vigil-<language>-mcp-…``; the category itself is not stored on findings, the id is.
_MCP_RULE: Final = re.compile(r"(^|[.\-_])mcp([.\-_]|$)", re.I)
_HIGH: Final = frozenset({"critical", "high"})

_BLOCKER_TEXT: Final[dict[BlockerKind, tuple[str, str]]] = {
    "critical": ("critical finding", "critical findings"),
    "secret": ("hard-coded secret", "hard-coded secrets"),
    "unauthenticated_admin": (
        "admin route without authentication",
        "admin routes without authentication",
    ),
    "fixable_dependency": (
        "vulnerable dependency with a fix available",
        "vulnerable dependencies with a fix available",
    ),
    "mcp": ("high-risk MCP server issue", "high-risk MCP server issues"),
}
_BLOCKER_ORDER: Final[tuple[BlockerKind, ...]] = tuple(_BLOCKER_TEXT)


class Reported(msgspec.Struct, frozen=True, kw_only=True):
    """What the scorecard needs of one reported finding."""

    id: uuid.UUID | None = None
    scanner: str
    rule_id: str
    severity: Severity
    confidence: Confidence
    cwe: tuple[str, ...] = ()
    file_path: str = ""
    recommendation: str = ""


class Blocker(msgspec.Struct, frozen=True):
    """One kind of issue that should stop a launch, how many there are, and which findings."""

    kind: BlockerKind
    count: int
    message: str
    finding_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


class Scorecard(msgspec.Struct, frozen=True, kw_only=True):
    """Every figure the scan shows about its reported findings."""

    score: int
    grade: Grade
    launch_readiness: int
    blockers: list[Blocker]
    summary: str
    counts: dict[str, int]


def score(findings: Iterable[tuple[Severity, Confidence]]) -> int:
    """100 minus the confidence-weighted severity points of the reported findings, at least 0."""
    cost = sum(SEVERITY_POINTS[sev] * CONFIDENCE_FACTOR[conf] for sev, conf in findings)
    # Rounded half up (Python's round() rounds half to even, which reads as a bug in a table).
    return max(0, math.floor(100 - cost + 0.5))


def grade(value: int) -> Grade:
    """The letter for a score: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, F below."""
    return next((letter for floor, letter in GRADE_FLOORS if value >= floor), "F")


def is_secret(finding: Reported) -> bool:
    """A hard-coded credential: from the secret scanner, or with a secret CWE."""
    return finding.scanner in SECRET_SCANNERS or bool(SECRET_CWES & set(finding.cwe))


def is_mcp(finding: Reported) -> bool:
    """A finding of the MCP rule category (rule id with an ``mcp`` segment, any separator)."""
    return finding.scanner == "mcp" or bool(_MCP_RULE.search(finding.rule_id))


def is_fixable_dependency(finding: Reported) -> bool:
    """A high or critical vulnerable dependency whose advisory names a fixed version."""
    return (
        finding.scanner == "deps"
        and finding.severity in _HIGH
        and finding.recommendation.startswith("Upgrade to")
    )


def is_admin_route(path: str) -> bool:
    """True for an HTTP route (or file) whose path names an admin area."""
    return bool(_ADMIN_PATH.search(path))


def blockers(
    reported: Sequence[Reported], *, open_admin_routes: int = 0, is_mcp_server: bool = False
) -> list[Blocker]:
    """The blocking items, one per kind present, in a fixed order."""
    found: dict[BlockerKind, list[Reported]] = {kind: [] for kind in _BLOCKER_ORDER}
    for finding in reported:
        if finding.severity == "critical":
            found["critical"].append(finding)
        if is_secret(finding):
            found["secret"].append(finding)
        if ADMIN_AUTH_CWES & set(finding.cwe):
            found["unauthenticated_admin"].append(finding)
        if is_fixable_dependency(finding):
            found["fixable_dependency"].append(finding)
        if is_mcp_server and is_mcp(finding) and finding.severity in _HIGH:
            found["mcp"].append(finding)
    extra: dict[BlockerKind, int] = {"unauthenticated_admin": open_admin_routes}
    result = []
    for kind in _BLOCKER_ORDER:
        items = found[kind]
        count = len(items) + extra.get(kind, 0)
        if count:
            one, many = _BLOCKER_TEXT[kind]
            ids = [f.id for f in items if f.id is not None][:20]
            message = f"{count} {one if count == 1 else many}"
            result.append(Blocker(kind, count, message, ids))
    return result


def launch_readiness(security_score: int, blocking: Sequence[Blocker]) -> int:
    """The security score, or with blocking items at most 49 and 10 less per further kind."""
    if not blocking:
        return security_score
    return max(0, min(security_score, BLOCKED_CEILING) - PER_EXTRA_BLOCKER * (len(blocking) - 1))


def severity_counts(reported: Iterable[Reported]) -> dict[str, int]:
    """Reported findings per severity, every severity present."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for finding in reported:
        counts[finding.severity] += 1
    return counts


def summary(card: dict[str, Any], *, filtered: int, files: int | None) -> str:
    """A plain-language paragraph built from counts (no model, same text for the same scan)."""
    counts: dict[str, int] = card["counts"]
    total = sum(counts.values())
    blocking: list[Blocker] = card["blockers"]
    if blocking:
        items = "; ".join(b.message for b in blocking)
        issues = "issue" if len(blocking) == 1 else "issues"
        head = f"Not ready to launch: {len(blocking)} blocking {issues} ({items})."
    elif card["launch_readiness"] >= GRADE_FLOORS[2][0]:
        head = "Ready to launch: nothing blocks it."
    else:
        head = "Nothing blocks a launch, but many lesser issues remain."
    where = f" in {files} files" if files else ""
    if total:
        parts = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n)
        body = f"{total} {'finding' if total == 1 else 'findings'} reported{where} ({parts})."
    else:
        body = f"No findings reported{where}."
    if filtered:
        body += (
            f" {filtered} more {'was' if filtered == 1 else 'were'} filtered as false"
            " positives or duplicates, each with its reason."
        )
    tail = (
        f" Security grade {card['grade']} ({card['score']}/100),"
        f" launch readiness {card['launch_readiness']}/100."
    )
    return head + " " + body + tail


def compute(
    reported: Sequence[Reported],
    *,
    filtered: int = 0,
    files: int | None = None,
    open_admin_routes: int = 0,
    is_mcp_server: bool = False,
) -> Scorecard:
    """The scorecard of a scan from its reported findings and what the static stage indexed."""
    value = score((f.severity, f.confidence) for f in reported)
    blocking = blockers(reported, open_admin_routes=open_admin_routes, is_mcp_server=is_mcp_server)
    if any(b.kind == "mcp" for b in blocking):
        value = min(value, MCP_SCORE_CAP)
    card: dict[str, Any] = {
        "score": value,
        "grade": grade(value),
        "launch_readiness": launch_readiness(value, blocking),
        "blockers": blocking,
        "counts": severity_counts(reported),
    }
    return Scorecard(**card, summary=summary(card, filtered=filtered, files=files))


_REPORTED: Final = (
    "SELECT id, scanner, rule_id, severity, confidence, cwe, file_path, recommendation"
    " FROM findings WHERE scan_id = $1 AND status = 'reported'"
)
_SCAN: Final = (
    "SELECT s.included_files, s.is_mcp_server,"
    " (SELECT count(*) FROM findings f WHERE f.scan_id = s.id AND f.status = 'filtered')"
    " AS filtered FROM scans s WHERE s.id = $1"
)
_OPEN_ROUTES: Final = "SELECT path FROM scan_endpoints WHERE scan_id = $1 AND NOT auth"
_STORE: Final = """
UPDATE scans SET score = $2, grade = $3, launch_readiness = $4, launch_blockers = $5::jsonb,
    summary = $6, finding_counts = CASE WHEN $7 THEN $8::jsonb ELSE finding_counts END
WHERE id = $1 AND (NOT $9 OR status = 'running')
"""


async def rescore(
    db: Executor, scan_id: uuid.UUID, *, counts: bool = False, running_only: bool = False
) -> Scorecard:
    """Compute the scan's scorecard from its stored findings and store it.

    ``db`` may be the pool or a connection inside a transaction. ``counts`` also rewrites the
    scan's severity counts (after a restore; the validator's completion writes them itself).
    ``running_only`` leaves a scan that ended meanwhile (cancelled, failed) untouched.
    """
    rows = await db.fetch(_REPORTED, scan_id)
    reported = [msgspec.convert(dict(row), Reported) for row in rows]
    scan = await db.fetchrow(_SCAN, scan_id)
    open_routes = await _open_admin_routes(db, scan_id)
    card = compute(
        reported,
        filtered=scan["filtered"] if scan else 0,
        files=scan["included_files"] if scan else None,
        open_admin_routes=open_routes,
        is_mcp_server=bool(scan and scan["is_mcp_server"]),
    )
    await db.execute(
        _STORE,
        scan_id,
        card.score,
        card.grade,
        card.launch_readiness,
        card.blockers,
        card.summary,
        counts,
        card.counts,
        running_only,
    )
    return card


async def _open_admin_routes(db: Executor, scan_id: uuid.UUID) -> int:
    """Admin routes the static stage's endpoint index found without authentication."""
    rows = await db.fetch(_OPEN_ROUTES, scan_id)
    return sum(1 for row in rows if is_admin_route(row["path"]))
