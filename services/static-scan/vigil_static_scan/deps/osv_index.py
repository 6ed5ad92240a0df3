"""The offline OSV advisory index: ``<dir>/<Ecosystem>/<ID>.json`` read once per process.

The record types here are also what the online source (osv_api) decodes from the OSV API.

The index is read-only reference data, not scan state, so one copy per folder is cached for
the life of the process (about 13,000 records, 40 MB on disk for the shared snapshot).
Withdrawn records are left out (OSV schema: ``withdrawn`` marks a record no longer valid).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

import msgspec

from vigil_static_scan.deps.versions import ECOSYSTEMS

_BUILT: Final = re.compile(r"^Built\s+(\d{4}-\d{2}-\d{2})", re.MULTILINE)
# Go's records carry placeholder dates (see the shared folder's README): never the newest.
_NO_DATE: Final = "0001-01-01"
SNAPSHOT_FILE: Final = "snapshot.json"


class Event(msgspec.Struct, frozen=True):
    """One event of a range; exactly one field is set (``limit`` is not used by Vigil)."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None


class Range(msgspec.Struct, frozen=True):
    """A version range; only ``ECOSYSTEM`` and ``SEMVER`` are read, ``GIT`` is skipped."""

    type: str
    events: tuple[Event, ...] = ()


class Package(msgspec.Struct, frozen=True):
    """The package an ``affected`` entry is about."""

    ecosystem: str = ""
    name: str = ""


class Severity(msgspec.Struct, frozen=True):
    """One ``severity[]`` entry: ``type`` CVSS_V2/V3/V4 (or Ubuntu) and a vector ``score``."""

    type: str = ""
    score: str = ""


class Affected(msgspec.Struct, frozen=True):
    """One ``affected[]`` entry of a record."""

    package: Package = msgspec.field(default_factory=Package)
    severity: tuple[Severity, ...] = ()
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    database_specific: dict[str, Any] | None = None


class Advisory(msgspec.Struct, frozen=True):
    """The fields of an OSV record the audit reads."""

    id: str
    summary: str = ""
    details: str = ""
    aliases: tuple[str, ...] = ()
    modified: str = ""
    withdrawn: str | None = None
    severity: tuple[Severity, ...] = ()
    affected: tuple[Affected, ...] = ()
    database_specific: dict[str, Any] | None = None


class Index(msgspec.Struct, frozen=True):
    """(ecosystem, normalised name) → the (record, entry) pairs naming that package."""

    source: str
    entries: dict[tuple[str, str], list[tuple[Advisory, Affected]]]
    records: int = 0


def normalise(ecosystem: str, name: str) -> str:
    """The name as the ecosystem compares it (PEP 503 for PyPI; crates.io ignores case)."""
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    if ecosystem == "crates.io":
        return name.lower()
    return name


_DECODER: Final = msgspec.json.Decoder(Advisory)
_CACHE: dict[Path, tuple[int, Index]] = {}
_LOCK: Final = threading.Lock()


def load_index(osv_dir: Path) -> Index:
    """The index of ``osv_dir``, built on first use and cached by its resolved path.

    A new sync writes a new ``snapshot.json``: its change time is part of the key, so a
    running worker reads the new snapshot on its next scan instead of keeping the old one.
    """
    path = osv_dir.resolve()
    try:
        stamp = (path / SNAPSHOT_FILE).stat().st_mtime_ns
    except OSError:
        stamp = 0
    with _LOCK:
        if _CACHE.get(path, (None, None))[0] != stamp:
            _CACHE[path] = (stamp, build_index(path))
        return _CACHE[path][1]


def build_index(osv_dir: Path) -> Index:
    """Read every record under the ecosystem folders Vigil audits; skip unreadable ones."""
    entries: dict[tuple[str, str], list[tuple[Advisory, Affected]]] = defaultdict(list)
    records, newest = 0, ""
    for ecosystem in ECOSYSTEMS:
        for path in sorted((osv_dir / ecosystem).glob("*.json")):
            try:
                advisory = _DECODER.decode(path.read_bytes())
            except (OSError, msgspec.DecodeError):
                continue
            if advisory.withdrawn:
                continue
            records += 1
            if advisory.modified > newest and not advisory.modified.startswith(_NO_DATE):
                newest = advisory.modified
            for affected in advisory.affected:
                if affected.package.ecosystem == ecosystem:
                    key = (ecosystem, normalise(ecosystem, affected.package.name))
                    entries[key].append((advisory, affected))
    source = describe_source(osv_dir, newest[:10])
    return Index(source=source, entries=dict(entries), records=records)


def describe_source(osv_dir: Path, newest: str = "") -> str:
    """``OSV offline, <folder>, snapshot <date>``: the date vigil-osv-sync recorded, else the
    README's ``Built <date>``, else the newest ``modified`` among the records.
    """
    date = snapshot_date(osv_dir) or newest
    return f"OSV offline, {osv_dir}" + (f", snapshot {date}" if date else "")


class Snapshot(msgspec.Struct, frozen=True):
    """``snapshot.json``, written by the sync command beside the ecosystem folders."""

    date: str
    source: str = ""
    ecosystems: dict[str, int] = msgspec.field(default_factory=dict)


def snapshot_date(osv_dir: Path) -> str:
    """The folder's recorded snapshot date (YYYY-MM-DD), or "" when it records none."""
    try:
        return msgspec.json.decode((osv_dir / SNAPSHOT_FILE).read_bytes(), type=Snapshot).date
    except (OSError, msgspec.DecodeError):
        pass
    try:
        built = _BUILT.search((osv_dir / "README.md").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ""
    return built[1] if built else ""
