"""Match a tree's pinned dependencies against the offline OSV index and report findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from vigil_common.findings import fingerprint
from vigil_common.schemas import Finding, Severity
from vigil_static_scan.deps.manifests import (
    Dependency,
    ManifestError,
    find_manifests,
    parser_for,
)
from vigil_static_scan.deps.osv_index import Advisory, Affected, Index, load_index, normalise
from vigil_static_scan.deps.versions import parse_version

NAME: Final = "deps"
SKIPPED: Final = "deps: skipped: no advisory source (set VIGIL_OSV_DIR)"
_SEVERITIES: Final[dict[str, Severity]] = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MODERATE": "medium",
    "MEDIUM": "medium",
    "LOW": "low",
}


def audit(tree: Path, osv_dir: str | None) -> tuple[list[Finding], str]:
    """Findings for every pinned dependency of ``tree`` an advisory covers, and a note."""
    if not osv_dir or not Path(osv_dir).is_dir():
        return [], SKIPPED
    index = load_index(Path(osv_dir))
    deps, unreadable = read_dependencies(tree)
    found = [finding for dep in deps for finding in check(dep, index)]
    note = f"deps: {len(found)} findings in {len(deps)} pinned dependencies ({index.source})"
    if unreadable:
        note += f", {len(unreadable)} manifests could not be read: {', '.join(unreadable)}"
    return found, note


def read_dependencies(tree: Path) -> tuple[list[Dependency], list[str]]:
    """Every dependency of every manifest under ``tree``, and the manifests that failed."""
    deps: list[Dependency] = []
    unreadable: list[str] = []
    for path in find_manifests(tree):
        relative = path.relative_to(tree).as_posix()
        parse = parser_for(path.name)
        try:
            if parse:
                deps += parse(path.read_text(encoding="utf-8", errors="replace"), relative)
        except (OSError, ManifestError):
            unreadable.append(relative)
    return deps, unreadable


def check(dep: Dependency, index: Index) -> list[Finding]:
    """One finding per advisory affecting ``dep`` (an advisory may list a package twice)."""
    version = parse_version(dep.ecosystem, dep.version)
    if version is None:
        return []
    hits: dict[str, tuple[Advisory, list[Affected]]] = {}
    for advisory, affected in index.entries.get((dep.ecosystem, _key(dep)), []):
        if is_affected(dep.ecosystem, dep.version, version, affected):
            hits.setdefault(advisory.id, (advisory, []))[1].append(affected)
    return [to_finding(dep, version, adv, entries) for adv, entries in hits.values()]


def _key(dep: Dependency) -> str:
    return normalise(dep.ecosystem, dep.name)


def is_affected(ecosystem: str, raw: str, version: Any, affected: Affected) -> bool:
    """Listed in ``versions``, or inside an ``ECOSYSTEM``/``SEMVER`` range (GIT is skipped)."""
    if raw in affected.versions or raw.removeprefix("v") in affected.versions:
        return True
    return any(
        in_range(ecosystem, version, r.events)
        for r in affected.ranges
        if r.type in {"ECOSYSTEM", "SEMVER"}
    )


def in_range(ecosystem: str, version: Any, events: Any) -> bool:
    """OSV's evaluation: walk the events in version order, toggling on introduced, off on
    fixed (at or above) and last_affected (above). https://ossf.github.io/osv-schema/#evaluation
    """
    ordered = []
    for event in events:
        for kind in ("introduced", "fixed", "last_affected"):
            text = getattr(event, kind)
            bound = None if text in (None, "0") else parse_version(ecosystem, text)
            if text == "0" or bound is not None:
                ordered.append((kind, bound))
    affected = False
    for kind, bound in sorted(ordered, key=lambda item: _order(item[1])):
        affected = _step(kind, bound, version, affected)
    return affected


def _step(kind: str, bound: Any, version: Any, affected: bool) -> bool:
    if kind == "introduced":
        return affected or bound is None or bool(version >= bound)
    passed = version >= bound if kind == "fixed" else version > bound
    return affected and not passed


def _order(bound: Any) -> Any:
    """Sort key putting introduced "0" (``None``) first; versions of one ecosystem compare."""
    return _Lowest() if bound is None else _Wrapped(bound)


class _Wrapped:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: Any) -> bool:
        return not isinstance(other, _Lowest) and bool(self.value < other.value)


class _Lowest:
    def __lt__(self, other: Any) -> bool:
        return not isinstance(other, _Lowest)


def to_finding(
    dep: Dependency, version: Any, advisory: Advisory, entries: list[Affected]
) -> Finding:
    """The finding for ``dep`` under ``advisory``, naming the fixed versions above it."""
    summary = advisory.summary or advisory.id
    description = (advisory.summary or advisory.details)[:500]
    if advisory.aliases:
        description += f"\n\nAliases: {', '.join(advisory.aliases)}"
    specific = advisory.database_specific or {}
    return Finding(
        scanner=NAME,
        rule_id=advisory.id,
        title=f"{dep.name} {dep.version}: {summary}",
        severity=_severity(specific, entries),
        confidence="high",
        description=description,
        recommendation=_recommendation(dep.ecosystem, version, entries),
        cwe=tuple(str(cwe) for cwe in specific.get("cwe_ids") or ()),
        file_path=dep.path,
        start_line=dep.line,
        end_line=dep.line,
        snippet=dep.text,
        fingerprint=fingerprint(NAME, advisory.id, dep.path, f"{dep.name}@{dep.version}"),
    )


def _severity(specific: dict[str, Any], entries: list[Affected]) -> Severity:
    # RustSec marks unmaintained/unsound/notice crates "informational": not a vulnerability.
    if any((entry.database_specific or {}).get("informational") for entry in entries):
        return "info"
    return _SEVERITIES.get(str(specific.get("severity", "")).upper(), "medium")


def _recommendation(ecosystem: str, version: Any, entries: list[Affected]) -> str:
    fixed = sorted(
        {
            event.fixed
            for entry in entries
            for r in entry.ranges
            if r.type in {"ECOSYSTEM", "SEMVER"}
            for event in r.events
            if event.fixed and _above(ecosystem, event.fixed, version)
        },
        key=lambda text: parse_version(ecosystem, text),
    )
    if not fixed:
        return "No fixed version is published"
    more = f" (fixed in {', '.join(fixed)})" if len(fixed) > 1 else ""
    return f"Upgrade to {fixed[0]} or later{more}"


def _above(ecosystem: str, text: str, version: Any) -> bool:
    bound = parse_version(ecosystem, text)
    return bound is not None and bool(bound > version)
