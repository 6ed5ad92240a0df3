"""The offline OSV advisory index: ``<dir>/<Ecosystem>/<ID>.json`` read once per process.

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


class Affected(msgspec.Struct, frozen=True):
    """One ``affected[]`` entry of a record."""

    package: Package = msgspec.field(default_factory=Package)
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    database_specific: dict[str, Any] | None = None


class Advisory(msgspec.Struct, frozen=True):
    """The fields of an OSV record the audit reads."""

    id: str
    summary: str = ""
    details: str = ""
    aliases: tuple[str, ...] = ()
    withdrawn: str | None = None
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
_CACHE: dict[Path, Index] = {}
_LOCK: Final = threading.Lock()


def load_index(osv_dir: Path) -> Index:
    """The index of ``osv_dir``, built on first use and cached by its resolved path."""
    key = osv_dir.resolve()
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = build_index(key)
        return _CACHE[key]


def build_index(osv_dir: Path) -> Index:
    """Read every record under the ecosystem folders Vigil audits; skip unreadable ones."""
    entries: dict[tuple[str, str], list[tuple[Advisory, Affected]]] = defaultdict(list)
    records = 0
    for ecosystem in ECOSYSTEMS:
        for path in sorted((osv_dir / ecosystem).glob("*.json")):
            try:
                advisory = _DECODER.decode(path.read_bytes())
            except (OSError, msgspec.DecodeError):
                continue
            if advisory.withdrawn:
                continue
            records += 1
            for affected in advisory.affected:
                if affected.package.ecosystem == ecosystem:
                    key = (ecosystem, normalise(ecosystem, affected.package.name))
                    entries[key].append((advisory, affected))
    return Index(source=describe_source(osv_dir), entries=dict(entries), records=records)


def describe_source(osv_dir: Path) -> str:
    """``OSV offline, <folder>`` plus the README's ``Built <date>`` when it has one."""
    source = f"OSV offline, {osv_dir}"
    readme = osv_dir / "README.md"
    if readme.is_file():
        built = _BUILT.search(readme.read_text(encoding="utf-8", errors="replace"))
        if built:
            source += f", built {built[1]}"
    return source
