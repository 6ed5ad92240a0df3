"""What every lockfile parser returns: a pinned dependency and the one parse error."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from vigil_static_scan.deps.versions import Ecosystem


class Dependency(msgspec.Struct, frozen=True):
    """One pinned package, where it is pinned and the line that pins it."""

    ecosystem: Ecosystem
    name: str
    version: str
    path: str
    line: int
    text: str


class ManifestError(Exception):
    """A manifest could not be read (malformed JSON, TOML or YAML, for one)."""


def make(
    ecosystem: Ecosystem, name: str, version: str, path: str, line: int, text: str
) -> Dependency:
    """A dependency with its line's text stripped of indentation."""
    return Dependency(ecosystem, name, version, path, line, text.strip())


def line_at(lines: list[str], number: int) -> str:
    """The text of 1-based line ``number``, or "" past the end."""
    return lines[number - 1] if 0 < number <= len(lines) else ""


def toml_package_lines(lines: list[str]) -> list[int]:
    """The 1-based line of each ``[[package]]`` table's ``name`` (its header when it has none).

    tomllib keeps no positions; tables come back in document order, so the n-th table's
    line is the n-th header's.
    """
    found: list[int] = []
    pending: int | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == "[[package]]":
            if pending is not None:
                found.append(pending)
            pending = number
        elif pending is not None and stripped.startswith("[") and not stripped.startswith("[["):
            continue
        elif pending is not None and stripped.replace(" ", "").startswith("name="):
            found.append(number)
            pending = None
    if pending is not None:
        found.append(pending)
    return found


def json_object(text: str, path: str) -> dict[str, Any]:
    """``text`` decoded as a JSON object, or ManifestError."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"{path}: not valid JSON") from exc
    if not isinstance(value, dict):
        raise ManifestError(f"{path}: not a JSON object")
    return value


def search(lines: list[str], needle: re.Pattern[str], cursor: int) -> int | None:
    """The 0-based index of the first line at or after ``cursor`` matching ``needle``."""
    return next((i for i in range(cursor, len(lines)) if needle.search(lines[i])), None)
