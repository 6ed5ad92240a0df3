"""Secret scanning with betterleaks (gitleaks-class, offline by default), masked at once.

Chosen over kingfisher and detect-secrets (measured on the same planted secrets, see
NOTES-local-infra): all found, 0.5 s on 23 MB, offline without flags, one JSON report.
Its report holds the secrets themselves: :func:`parse` keeps only a masked form
(``sk_live_****uvwx``) in the evidence and in the snippet, and fingerprints the masked line,
so no secret (nor an unkeyed hash of one) reaches the database, logs or reports. Known
placeholders (``changeme``, ``…EXAMPLE``, test keys) are kept but downgraded to ``info``.
Exit code 1 means findings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import msgspec

from vigil_common.findings import fingerprint
from vigil_common.schemas import Confidence, Finding, Severity
from vigil_static_scan.snippets import SnippetReader

NAME: Final = "secrets"
OK_EXIT_CODES: Final = frozenset({0, 1})
_PREFIX: Final = re.compile(r"^[A-Za-z]{2,8}[_-](?:[A-Za-z]{2,8}[_-])?")
_PLACEHOLDER: Final = re.compile(
    r"(?i)^(changeme|change_me|password|secret|example|dummy|fake|test|xxx+|\*+|"
    r"your[_-]?\w*|<[^>]+>|\$\{[^}]+\})$|EXAMPLE$|^sk_test_|^pk_test_|^rk_test_"
)
_STRONG: Final = ("private-key", "aws", "gcp", "stripe", "github", "gitlab", "slack", "azure")


def command(binary: str, output: Path) -> list[str]:
    """The argv scanning the current directory (no network: validation is off by default)."""
    return [binary, ".", "--output", str(output), "--no-banner", "--silent", "--log-level", "error"]


def history_command(binary: str, repo: Path, output: Path) -> list[str]:
    """The argv scanning every commit of the local repository ``repo`` (its patches)."""
    quiet = ["--no-banner", "--silent", "--log-level", "error"]
    return [binary, "git", str(repo), "--output", str(output), *quiet]


def _always(snippet: str) -> SnippetReader:
    """A snippet reader for a file that may no longer exist: the matched line, masked."""
    return lambda *_: snippet


def parse_history(report: Report) -> list[Finding]:
    """The history's findings, masked, each naming its commit (the file may be gone since)."""
    found = []
    for result in report.findings:
        sha = result.attributes.get("git.sha", "")
        masked = mask(result.match.value)
        snippet = result.match.full.replace(result.match.value, masked) or masked
        finding = _finding(result, _always(snippet))
        found.append(
            msgspec.structs.replace(
                finding,
                rule_id=f"history-{result.rule_id}",
                title=f"{finding.title} in git history (commit {sha[:12]})",
                description=f"{finding.description} Committed in {sha}"
                f" on {result.attributes.get('git.date', 'an unknown date')}.",
                evidence=f"{masked} (commit {sha[:12]})",
                fingerprint=fingerprint(NAME, f"history-{result.rule_id}", finding.file_path, sha),
            )
        )
    return found


class _Match(msgspec.Struct):
    value: str = ""
    full: str = ""


class _Location(msgspec.Struct):
    path: str
    start_line: int
    end_line: int


class _Result(msgspec.Struct):
    rule_id: str
    location: _Location
    description: str = ""
    confidence: str = "medium"
    match: _Match = msgspec.field(default_factory=_Match)
    # The commit of a finding in the git history: git.sha, git.date, ...
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class Report(msgspec.Struct):
    """The parts of betterleaks' JSON report Vigil reads."""

    findings: list[_Result] = msgspec.field(default_factory=list)


def decode_report(data: bytes) -> Report:
    """Decode betterleaks' ``--output`` JSON."""
    return msgspec.json.decode(data, type=Report)


def mask(secret: str) -> str:
    """A form safe to store and show: the kind prefix, then ``****``, then the last 4."""
    if len(secret) < 12:
        return "****"
    kind = _PREFIX.match(secret)
    prefix = kind[0][:10] if kind else ""
    return f"{prefix}****{secret[-4:]}"


def is_placeholder(secret: str) -> bool:
    """Whether the value is a well-known stand-in rather than a real credential."""
    return bool(_PLACEHOLDER.search(secret))


def parse(report: Report, read_snippet: SnippetReader) -> list[Finding]:
    """Every finding of the report, masked, in report order."""
    return [_finding(result, read_snippet) for result in report.findings]


def _finding(result: _Result, read_snippet: SnippetReader) -> Finding:
    path = result.location.path.removeprefix("./")
    secret, masked = result.match.value, mask(result.match.value)
    line = read_snippet(path, result.location.start_line, result.location.end_line)
    snippet = line.replace(secret, masked) if secret else line
    placeholder = is_placeholder(secret)
    return Finding(
        scanner=NAME,
        rule_id=result.rule_id,
        title=_title(result.rule_id, placeholder),
        severity=_severity(result, placeholder),
        confidence="low" if placeholder else _confidence(result.confidence),
        description=result.description,
        recommendation=(
            "Revoke this credential, then load it from a secret store or the environment;"
            " remove it from the repository's history as well."
        ),
        cwe=("CWE-798",),
        owasp=("A07:2021 - Identification and Authentication Failures",),
        file_path=path,
        start_line=result.location.start_line,
        end_line=result.location.end_line,
        snippet=snippet,
        evidence=masked,
        fingerprint=fingerprint(NAME, result.rule_id, path, snippet),
    )


def _title(rule_id: str, placeholder: bool) -> str:
    kind = rule_id.replace("-", " ")
    return f"Placeholder credential ({kind})" if placeholder else f"Hard-coded secret: {kind}"


def _severity(result: _Result, placeholder: bool) -> Severity:
    if placeholder:
        return "info"
    if any(kind in result.rule_id for kind in _STRONG):
        return "critical" if "private-key" in result.rule_id else "high"
    return "medium" if result.confidence != "low" else "low"


def _confidence(value: str) -> Confidence:
    lowered = value.lower()
    return lowered if lowered in {"high", "medium", "low"} else "medium"  # type: ignore[return-value]
