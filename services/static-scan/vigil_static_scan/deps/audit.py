"""Match a tree's pinned dependencies against OSV advisories and report findings.

Two sources: the OSV API when ``VIGIL_OSV_API_URL`` is set, else the offline folder
``VIGIL_OSV_DIR``. The note names the source and its date, for the scan's history.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp

from vigil_common.config import Settings
from vigil_common.schemas import Finding
from vigil_static_scan.deps.manifests import Dependency, ManifestError, find_manifests, parser_for
from vigil_static_scan.deps.osv_api import OsvClient, query_version
from vigil_static_scan.deps.osv_index import (
    Advisory,
    Affected,
    Index,
    describe_source,
    load_index,
    normalise,
)
from vigil_static_scan.deps.report import NAME, to_finding
from vigil_static_scan.deps.versions import parse_version

__all__ = ["NAME", "SKIPPED", "audit", "check", "in_range", "read_dependencies", "run", "warm"]

log = logging.getLogger(__name__)

SKIPPED: Final = "deps: skipped: no advisory source (set VIGIL_OSV_DIR or VIGIL_OSV_API_URL)"


async def run(tree: Path, settings: Settings) -> tuple[list[Finding], str]:
    """The audit with the configured source: the API when its URL is set, else the folder.

    An unreachable API raises OsvApiError: the scan records the deps scanner as failed
    rather than quietly falling back to older offline data.
    """
    started = time.monotonic()
    if settings.osv_api_url:
        found, note = await audit_online(tree, settings.osv_api_url)
    else:
        found, note = await asyncio.to_thread(audit, tree, settings.osv_dir)
    log.info("%s in %.2f s", note, time.monotonic() - started)
    return found, note


def audit(tree: Path, osv_dir: str | None) -> tuple[list[Finding], str]:
    """Offline: findings for every pinned dependency of ``tree`` the folder covers, and a note."""
    if not osv_dir or not Path(osv_dir).is_dir():
        return [], SKIPPED
    deps, unreadable = read_dependencies(tree)
    if not deps:  # nothing pinned: no need for the index, whose first load takes seconds
        return [], _note([], deps, unreadable, describe_source(Path(osv_dir).resolve()))
    index = load_index(Path(osv_dir))
    found = [finding for dep in deps for finding in check(dep, index)]
    return found, _note(found, deps, unreadable, index.source)


def warm(osv_dir: str | None) -> None:
    """Load the offline index ahead of the first scan that needs it (run at start-up)."""
    if osv_dir and Path(osv_dir).is_dir():
        load_index(Path(osv_dir))


async def audit_online(tree: Path, base_url: str) -> tuple[list[Finding], str]:
    """Online: ask the OSV API about every pinned dependency of ``tree``."""
    deps, unreadable = await asyncio.to_thread(read_dependencies, tree)
    queried = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    async with aiohttp.ClientSession() as session:
        hits = await OsvClient(session, base_url).advisories(deps)
    found = [
        to_finding(dep, advisory, entries_for(dep, advisory))
        for dep in deps
        for advisory in hits.get((dep.ecosystem, dep.name, query_version(dep)), [])
    ]
    source = f"OSV API {base_url.rstrip('/')}, queried {queried}"
    return found, _note(found, deps, unreadable, source)


def _note(found: list[Finding], deps: list[Dependency], unreadable: list[str], source: str) -> str:
    note = f"deps: {len(found)} findings in {len(deps)} pinned dependencies ({source})"
    if unreadable:
        note += f", {len(unreadable)} manifests could not be read: {', '.join(unreadable)}"
    return note


def read_dependencies(tree: Path) -> tuple[list[Dependency], list[str]]:
    """Every dependency of every manifest under ``tree``, and the manifests that failed."""
    deps: list[Dependency] = []
    unreadable: list[str] = []
    for path in find_manifests(tree):
        relative = path.relative_to(tree).as_posix()
        parse = parser_for(path.name)
        try:
            if parse:
                text = path.read_text(encoding="utf-8", errors="replace")
                deps += [dep for dep in parse(text, relative) if _encodable(dep)]
        except (OSError, ManifestError):
            unreadable.append(relative)
    return deps, unreadable


def _encodable(dep: Dependency) -> bool:
    """False for a name or version with a lone surrogate (a JSON ``\\ud800`` escape): no
    advisory names one, and it could not be sent to the API or stored.
    """
    try:
        (dep.name + dep.version + dep.text).encode()
    except UnicodeEncodeError:
        return False
    return True


def entries_for(dep: Dependency, advisory: Advisory) -> list[Affected]:
    """The ``affected`` entries of ``advisory`` about ``dep``'s package."""
    key = normalise(dep.ecosystem, dep.name)
    return [
        entry
        for entry in advisory.affected
        if entry.package.ecosystem == dep.ecosystem
        and normalise(dep.ecosystem, entry.package.name) == key
    ]


def check(dep: Dependency, index: Index) -> list[Finding]:
    """One finding per advisory affecting ``dep`` (an advisory may list a package twice)."""
    version = parse_version(dep.ecosystem, dep.version)
    if version is None:
        return []
    hits: dict[str, tuple[Advisory, list[Affected]]] = {}
    for advisory, affected in index.entries.get((dep.ecosystem, _key(dep)), []):
        if is_affected(dep.ecosystem, dep.version, version, affected):
            hits.setdefault(advisory.id, (advisory, []))[1].append(affected)
    return [to_finding(dep, adv, entries) for adv, entries in hits.values()]


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
