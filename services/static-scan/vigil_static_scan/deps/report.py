"""A dependency finding: package, installed version, advisory, aliases, fix and severity."""

from __future__ import annotations

from typing import Any, Final

from vigil_common.findings import fingerprint
from vigil_common.schemas import Finding, Severity
from vigil_static_scan.deps import cvss
from vigil_static_scan.deps.model import Dependency
from vigil_static_scan.deps.osv_index import Advisory, Affected
from vigil_static_scan.deps.versions import parse_version

NAME: Final = "deps"
_WORDS: Final[dict[str, Severity]] = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MODERATE": "medium",
    "MEDIUM": "medium",
    "LOW": "low",
}


def to_finding(dep: Dependency, advisory: Advisory, entries: list[Affected]) -> Finding:
    """The finding for ``dep`` under ``advisory``, naming the fixed versions above it."""
    summary = advisory.summary or advisory.id
    vector, score = cvss_of(advisory, entries)
    description = (advisory.summary or advisory.details)[:500]
    if vector:
        description += f"\n\nCVSS: {vector}" + (f" (base score {score})" if score else "")
    if advisory.aliases:
        description += f"\n\nAliases: {', '.join(advisory.aliases)}"
    fixed = fixed_versions(dep, entries)
    specific = advisory.database_specific or {}
    return Finding(
        scanner=NAME,
        rule_id=advisory.id,
        title=f"{dep.name} {dep.version}: {summary}",
        severity=severity(advisory, entries),
        confidence="high",
        description=description,
        recommendation=_recommendation(fixed),
        cwe=tuple(str(cwe) for cwe in specific.get("cwe_ids") or ()),
        file_path=dep.path,
        start_line=dep.line,
        end_line=dep.line,
        snippet=dep.text,
        evidence=evidence(dep, advisory, fixed, vector, score),
        fingerprint=fingerprint(NAME, advisory.id, dep.path, f"{dep.name}@{dep.version}"),
    )


def evidence(
    dep: Dependency, advisory: Advisory, fixed: list[str], vector: str, score: float | None
) -> str:
    """One line a reader can act on: what is installed, which advisory, the fix, the score."""
    parts = [f"{dep.ecosystem} {dep.name} {dep.version} is affected by {advisory.id}"]
    if advisory.aliases:
        parts[0] += f" ({', '.join(advisory.aliases)})"
    parts.append(f"fixed in {', '.join(fixed)}" if fixed else "no fixed version")
    if vector:
        parts.append(vector + (f" = {score}" if score is not None else ""))
    return "; ".join(parts)


def cvss_of(advisory: Advisory, entries: list[Affected]) -> tuple[str, float | None]:
    """The advisory's CVSS v3 vector and base score, else any vector unscored, else ("", None).

    A record's own ``severity`` is preferred over its per-package entries' (OSV schema:
    ``affected[].severity`` only when it differs per package).
    """
    listed = [*advisory.severity, *(s for entry in entries for s in entry.severity)]
    for item in listed:
        score = cvss.base_score(item.score)
        if score is not None:
            return item.score, score
    vectors = [item.score for item in listed if item.score.startswith("CVSS:")]
    return (vectors[0], None) if vectors else ("", None)


def severity(advisory: Advisory, entries: list[Affected]) -> Severity:
    """Informational (RustSec), else the CVSS v3 rating, else the database's word, else medium."""
    # RustSec marks unmaintained/unsound/notice crates "informational": not a vulnerability.
    if any((entry.database_specific or {}).get("informational") for entry in entries):
        return "info"
    _, score = cvss_of(advisory, entries)
    if score is not None:
        return cvss.rating(score)
    word = str((advisory.database_specific or {}).get("severity", "")).upper()
    return _WORDS.get(word, "medium")


def fixed_versions(dep: Dependency, entries: list[Affected]) -> list[str]:
    """The ``fixed`` events above the installed version, lowest first."""
    version = parse_version(dep.ecosystem, dep.version)
    if version is None:
        return []
    candidates = {
        event.fixed
        for entry in entries
        for r in entry.ranges
        if r.type in {"ECOSYSTEM", "SEMVER"}
        for event in r.events
        if event.fixed
    }
    above = [(parse_version(dep.ecosystem, text), text) for text in candidates]
    return [text for bound, text in sorted(_comparable(above, version))]


def _comparable(pairs: list[tuple[Any, str]], version: Any) -> list[tuple[Any, str]]:
    return [(bound, text) for bound, text in pairs if bound is not None and bound > version]


def _recommendation(fixed: list[str]) -> str:
    if not fixed:
        return "No fixed version is published"
    more = f" (fixed in {', '.join(fixed)})" if len(fixed) > 1 else ""
    return f"Upgrade to {fixed[0]} or later{more}"
