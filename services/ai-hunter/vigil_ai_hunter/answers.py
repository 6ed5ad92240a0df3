"""The hunter's answer schema and the guard that turns answers into findings or drops them.

The schema (sent as ``response_format``) puts the reasoning before the findings and each
finding's reasoning before its verdict fields. Every answer is checked again here, whatever the
server promised. The file must exist in the tree, the CWE must be well formed, and the code the
model quotes must be found at its lines: whitespace is normalised, line numbers copied from the
prompt are ignored, and a quote found within ``DRIFT_LINES`` of the reported start moves the
finding there. What fails is dropped and counted by reason, never stored: a made-up line is
worse than no finding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Annotated, Final

import msgspec

from vigil_common.findings import fingerprint
from vigil_common.schemas import Confidence, Finding, Severity

SCANNER: Final = "ai"
_CWE: Final = re.compile(r"^CWE-[1-9][0-9]{0,4}$")
# How far a quote may be from the reported start line and still be accepted (and moved).
DRIFT_LINES: Final = 5
# "12: code" as the prompt numbers lines; a model often copies the number with the code.
_LINE_NUMBER: Final = re.compile(r"^\s*\d+:\s?")

# Caps keep the longest valid answer (5 findings) within the default VIGIL_LLM_MAX_TOKENS
# (2048), at about four characters per token.
Short = Annotated[str, msgspec.Meta(max_length=120)]
Text = Annotated[str, msgspec.Meta(max_length=400)]
Brief = Annotated[str, msgspec.Meta(max_length=300)]
Quote = Annotated[str, msgspec.Meta(max_length=200)]
FilePath = Annotated[str, msgspec.Meta(max_length=160)]
Line = Annotated[int, msgspec.Meta(ge=1)]


class HuntedIssue(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One vulnerability as the model reports it."""

    reasoning: Brief
    title: Short
    cwe: Annotated[str, msgspec.Meta(max_length=12)]
    severity: Severity
    confidence: Confidence
    path: FilePath
    start_line: Line
    end_line: Line
    # The flagged code copied verbatim (its first lines if long): the guard looks for it.
    code: Quote
    description: Brief
    recommendation: Brief


class HuntAnswer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The model's answer about one file."""

    reasoning: Text
    findings: Annotated[list[HuntedIssue], msgspec.Meta(max_length=5)]


class Provenance(msgspec.Struct, frozen=True):
    """Where an AI finding came from, stored on it so it can be audited and re-run."""

    model: str
    prompt_version: str
    reasoning: str


class Dropped(Counter[str]):
    """Findings the guard refused, by reason."""

    def describe(self) -> str:
        """``2 lines outside the file, 1 quoted code not found``, most frequent first."""
        return ", ".join(f"{n} {reason}" for reason, n in sorted(self.items(), key=_order))


def _order(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def normalised(line: str) -> str:
    """A line with runs of whitespace collapsed (indentation and alignment do not count)."""
    return " ".join(line.split())


def quoted_lines(code: str) -> list[str]:
    """The model's quote as normalised, non-blank lines, without copied line numbers."""
    lines = (normalised(_LINE_NUMBER.sub("", line, count=1)) for line in code.splitlines())
    return [line for line in lines if line]


def locate(quote: Sequence[str], lines: Sequence[str], start_line: int) -> int | None:
    """The 1-based line where ``quote`` starts, searched outward from ``start_line``."""
    if not quote:
        return None
    for offset in sorted(range(-DRIFT_LINES, DRIFT_LINES + 1), key=lambda o: (abs(o), o)):
        candidate = start_line + offset
        if 1 <= candidate <= len(lines) and _matches_at(quote, lines, candidate - 1):
            return candidate
    return None


def _matches_at(quote: Sequence[str], lines: Sequence[str], index: int) -> bool:
    """Each quoted line is within the next non-blank file line, from ``lines[index]`` on.

    Within, not equal: the quote may start mid-line or be cut off by its length cap.
    """
    position = index
    for number, wanted in enumerate(quote):
        while number and position < len(lines) and not lines[position].strip():
            position += 1  # blank lines between quoted lines do not break a quote
        if position >= len(lines) or wanted not in normalised(lines[position]):
            return False
        position += 1
    return True


def check(issue: HuntedIssue, lines: Sequence[str] | None) -> tuple[str | None, int, int]:
    """Why ``issue`` cannot be stored (or ``None``), and its lines, moved to the quote."""
    if lines is None:
        return "file not in the tree", 0, 0
    if not _CWE.match(issue.cwe):
        return "malformed CWE", 0, 0
    if issue.start_line > issue.end_line:
        return "line range reversed", 0, 0
    quote = quoted_lines(issue.code)
    found = locate(quote, lines, issue.start_line)
    if found is None:
        if issue.end_line > len(lines):
            return "lines outside the file", 0, 0
        return "quoted code not found at its lines", 0, 0
    shift = found - issue.start_line
    end = min(len(lines), max(issue.end_line + shift, found + len(quote) - 1))
    return None, found, end


def to_finding(
    issue: HuntedIssue, path: str, lines: Sequence[str], start: int, end: int
) -> Finding:
    """The stored finding: fingerprinted over the code at its lines, so it survives moves."""
    code = "\n".join(lines[start - 1 : end])
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
        start_line=start,
        end_line=end,
        snippet=_snippet(code),
        fingerprint=fingerprint(SCANNER, rule_id, path, code),
    )


def _snippet(code: str) -> str:
    # Same caps as static findings' snippets (docs/decisions.md): 12 lines, 2000 characters.
    return "\n".join(code.splitlines()[:12])[:2000]


def file_of(issue: HuntedIssue, asked: str) -> str:
    """The path a finding names, relative like the tree's (``./a.py`` and ``/a.py`` are ``a.py``).

    An empty path means the file asked about.
    """
    path = issue.path.strip().removeprefix("./").lstrip("/")
    return path or asked


def accept(
    answer: HuntAnswer, asked: str, files: Mapping[str, str]
) -> tuple[list[tuple[Finding, str]], Dropped]:
    """Findings that pass the guard, each with its reasoning, and the dropped ones by reason.

    ``files`` is the tree's text read for the hunt: a finding in a context file is kept when
    its quote is found there, because the model was shown that code.
    """
    kept: list[tuple[Finding, str]] = []
    dropped = Dropped()
    split: dict[str, list[str]] = {}
    for issue in answer.findings:
        path = file_of(issue, asked)
        if path not in split and path in files:
            split[path] = files[path].splitlines()
        reason, start, end = check(issue, split.get(path))
        if reason is None:
            kept.append((to_finding(issue, path, split[path], start, end), issue.reasoning))
        else:
            dropped[reason] += 1
    return kept, dropped
