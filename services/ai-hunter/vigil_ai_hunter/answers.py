"""The hunter's answer schema and the guard that turns answers into findings or drops them.

The schema (sent as ``response_format``) puts the reasoning before the findings and each
finding's reasoning before its verdict fields. Every answer is checked again here, whatever the
server promised: lines inside the file, a well-formed CWE, a known severity. What fails is
dropped and counted, never stored: a made-up line is worse than no finding.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

import msgspec

from vigil_common.findings import fingerprint
from vigil_common.schemas import Confidence, Finding, Severity

SCANNER: Final = "ai"
_CWE: Final = re.compile(r"^CWE-[1-9][0-9]{0,4}$")

# Caps keep the longest valid answer (5 findings) within the default VIGIL_LLM_MAX_TOKENS
# (2048), at about four characters per token.
Short = Annotated[str, msgspec.Meta(max_length=120)]
Text = Annotated[str, msgspec.Meta(max_length=400)]
Line = Annotated[int, msgspec.Meta(ge=1)]


class HuntedIssue(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One vulnerability as the model reports it."""

    reasoning: Text
    title: Short
    cwe: Annotated[str, msgspec.Meta(max_length=12)]
    severity: Severity
    confidence: Confidence
    start_line: Line
    end_line: Line
    description: Text
    recommendation: Text


class HuntAnswer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The model's answer about one file."""

    reasoning: Text
    findings: Annotated[list[HuntedIssue], msgspec.Meta(max_length=5)]


class Provenance(msgspec.Struct, frozen=True):
    """Where an AI finding came from, stored on it so it can be audited and re-run."""

    model: str
    prompt_version: str
    reasoning: str


def check(issue: HuntedIssue, line_count: int) -> str | None:
    """Why ``issue`` cannot be stored, or ``None`` when it can."""
    if not _CWE.match(issue.cwe):
        return "malformed CWE"
    if issue.start_line > issue.end_line:
        return "line range reversed"
    if issue.end_line > line_count:
        return "lines outside the file"
    return None


def to_finding(issue: HuntedIssue, path: str, lines: list[str]) -> Finding:
    """The stored finding: fingerprinted over the code at its lines, so it survives moves."""
    code = "\n".join(lines[issue.start_line - 1 : issue.end_line])
    rule_id = f"ai.{issue.cwe.lower()}"
    return Finding(
        scanner=SCANNER,
        rule_id=rule_id,
        title=issue.title,
        severity=issue.severity,
        confidence=issue.confidence,
        description=issue.description,
        recommendation=issue.recommendation,
        cwe=(issue.cwe,),
        file_path=path,
        start_line=issue.start_line,
        end_line=issue.end_line,
        snippet=_snippet(code),
        fingerprint=fingerprint(SCANNER, rule_id, path, code),
    )


def _snippet(code: str) -> str:
    # Same caps as static findings' snippets (docs/decisions.md): 12 lines, 2000 characters.
    return "\n".join(code.splitlines()[:12])[:2000]


def accept(answer: HuntAnswer, path: str, text: str) -> tuple[list[tuple[Finding, str]], int]:
    """Findings that pass the guard, each with its reasoning, and how many were dropped."""
    lines = text.splitlines()
    kept: list[tuple[Finding, str]] = []
    for issue in answer.findings:
        if check(issue, len(lines)) is None:
            kept.append((to_finding(issue, path, lines), issue.reasoning))
    return kept, len(answer.findings) - len(kept)
