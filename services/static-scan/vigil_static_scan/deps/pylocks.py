"""Python lockfiles: ``poetry.lock``, ``uv.lock`` (TOML) and ``Pipfile.lock`` (JSON).

Only packages installed from an index are read: git, path, directory, URL and editable
sources are the project's own code or have no registry version to look up.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any, Final

from vigil_static_scan.deps.model import (
    Dependency,
    ManifestError,
    json_object,
    line_at,
    make,
    search,
    toml_package_lines,
)

# poetry.lock ``[package.source] type``: "legacy" is a private index, still a PyPI package.
_POETRY_LOCAL: Final = frozenset({"git", "directory", "file", "url"})
_PIPFILE_SECTIONS: Final = ("default", "develop")


def _toml(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ManifestError(f"{path}: not valid TOML") from exc


def _toml_packages(text: str, path: str) -> Iterator[tuple[dict[str, Any], int, str]]:
    """Each ``[[package]]`` table with its line number and that line's text."""
    packages = _toml(text, path).get("package", [])
    if not isinstance(packages, list):
        raise ManifestError(f"{path}: 'package' is not an array of tables")
    lines = text.splitlines()
    numbers = toml_package_lines(lines)
    for index, table in enumerate(packages):
        number = numbers[index] if index < len(numbers) else 1
        if isinstance(table, dict):
            yield table, number, line_at(lines, number)


def _pin(table: dict[str, Any]) -> tuple[str, str] | None:
    name, version = table.get("name"), table.get("version")
    return (name, version) if isinstance(name, str) and isinstance(version, str) else None


def parse_poetry_lock(text: str, path: str) -> list[Dependency]:
    """``[[package]]`` tables of a Poetry lockfile, left out when from git or a path."""
    found = []
    for table, number, line in _toml_packages(text, path):
        source = table.get("source")
        kind = source.get("type") if isinstance(source, dict) else None
        pin = _pin(table)
        if pin and kind not in _POETRY_LOCAL:
            found.append(make("PyPI", *pin, path, number, line))
    return found


def parse_uv_lock(text: str, path: str) -> list[Dependency]:
    """``[[package]]`` tables of a uv lockfile whose ``source`` is a ``registry``.

    The project itself (``editable``/``virtual``) and git or path sources are left out.
    """
    found = []
    for table, number, line in _toml_packages(text, path):
        source = table.get("source")
        pin = _pin(table)
        if pin and isinstance(source, dict) and "registry" in source:
            found.append(make("PyPI", *pin, path, number, line))
    return found


def parse_pipfile_lock(text: str, path: str) -> list[Dependency]:
    """``default`` and ``develop`` entries pinned ``==version`` (git and path ones have none)."""
    lock = json_object(text, path)
    lines, cursor, found = text.splitlines(), 0, []
    for section in [key for key in lock if key in _PIPFILE_SECTIONS]:
        entries = lock[section]
        if not isinstance(entries, dict):
            continue
        at = search(lines, re.compile(re.escape(json.dumps(section)) + r"\s*:"), cursor)
        cursor = cursor if at is None else at + 1
        for name, entry in entries.items():
            version = entry.get("version") if isinstance(entry, dict) else None
            if not isinstance(version, str) or not version.startswith("=="):
                continue
            at = search(lines, re.compile(re.escape(json.dumps(name)) + r"\s*:\s*\{"), cursor)
            cursor = cursor if at is None else at + 1
            number = 1 if at is None else at + 1
            found.append(make("PyPI", name, version[2:], path, number, line_at(lines, number)))
    return found
