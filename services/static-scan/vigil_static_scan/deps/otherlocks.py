"""Lockfiles of Go (``go.sum``), Ruby (``Gemfile.lock``) and PHP (``composer.lock``)."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from vigil_static_scan.deps.model import Dependency, json_object, line_at, make, search
from vigil_static_scan.deps.versions import parse_version

_GEM_SPEC: Final = re.compile(r"^    (?P<name>[^\s(]+) \((?P<version>[^)\s]+)\)\s*$")
_COMPOSER_SECTIONS: Final = ("packages", "packages-dev")


def parse_go_sum(text: str, path: str) -> list[Dependency]:
    """The highest version of each module whose code (not just ``/go.mod``) is hashed.

    go.sum lists every version the module graph touched; minimal version selection builds
    the highest one, and a ``/go.mod``-only line means the code was never downloaded
    (https://go.dev/ref/mod#go-sum-files). Read only where no go.mod sits beside it.
    """
    best: dict[str, tuple[Any, str, int, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if len(parts) != 3 or parts[1].endswith("/go.mod"):
            continue
        version = parse_version("Go", parts[1])
        held = best.get(parts[0])
        if version is not None and (held is None or version > held[0]):
            best[parts[0]] = (version, parts[1], number, line)
    return [
        make("Go", module, raw, path, number, line)
        for module, (_, raw, number, line) in sorted(best.items(), key=lambda item: item[1][2])
    ]


def parse_gemfile_lock(text: str, path: str) -> list[Dependency]:
    """``specs:`` of the ``GEM`` sections (``GIT`` and ``PATH`` gems are not from RubyGems).

    A platform gem (``nokogiri (1.16.2-x86_64-linux)``) is its version plus a platform:
    RubyGems versions have no ``-``, so the platform is cut at the first one.
    """
    found: list[Dependency] = []
    seen: set[tuple[str, str]] = set()
    in_gem = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line and not line[0].isspace():
            in_gem = line.strip() == "GEM"
            continue
        match = _GEM_SPEC.match(line) if in_gem else None
        if match:
            pin = (match["name"], match["version"].split("-")[0])
            if pin not in seen:
                seen.add(pin)
                found.append(make("RubyGems", *pin, path, number, line))
    return found


def parse_composer_lock(text: str, path: str) -> list[Dependency]:
    """``packages`` and ``packages-dev``; branch versions (``dev-main``, ``1.x-dev``) left out."""
    lock = json_object(text, path)
    lines, cursor, found = text.splitlines(), 0, []
    for section in [key for key in lock if key in _COMPOSER_SECTIONS]:
        entries = lock[section]
        for entry in entries if isinstance(entries, list) else []:
            name = entry.get("name") if isinstance(entry, dict) else None
            version = entry.get("version") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not isinstance(version, str):
                continue
            needle = re.compile(r'"name"\s*:\s*' + re.escape(json.dumps(name)))
            at = search(lines, needle, cursor)
            cursor = cursor if at is None else at + 1
            if version.startswith("dev-") or version.endswith("-dev"):
                continue
            number = 1 if at is None else at + 1
            found.append(make("Packagist", name, version, path, number, line_at(lines, number)))
    return found
