"""Pinned dependencies read from lockfiles: which file each parser reads, and the parsers
of requirements files, ``package-lock.json``, ``go.mod`` and ``Cargo.lock``.

Only exact pins are read: ``name==version`` in requirements files, resolved versions in
lockfiles, and ``require`` lines of ``go.mod`` (the versions the build selects as a minimum).
The other lockfiles have their own modules (pylocks, jslocks, otherlocks); every parser is a
pure ``(text, path) -> list[Dependency]`` that raises only ManifestError.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from vigil_static_scan.deps import jslocks, otherlocks, pylocks
from vigil_static_scan.deps.model import Dependency, ManifestError, json_object, make

__all__ = ["Dependency", "ManifestError", "find_manifests", "parser_for"]


_PIN: Final = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?"
    r"\s*===?\s*(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*(?:[;#\\]|$)"
)
_GO_REQUIRE: Final = re.compile(r"^(?P<name>[^\s()]+)\s+(?P<version>v[^\s/]+)")
_TOML_STRING: Final = re.compile(r'^(name|version|source)\s*=\s*"([^"]*)"\s*$')
_SKIP_DIRS: Final = frozenset({".git", "node_modules", "vendor", ".venv", "venv", "target"})


def parse_requirements(text: str, path: str) -> list[Dependency]:
    """``name==version`` lines of a pip requirements file (names kept as written)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _PIN.match(line)
        if match and "*" not in match["version"]:
            found.append(make("PyPI", match["name"], match["version"], path, number, line))
    return found


def parse_package_lock(text: str, path: str) -> list[Dependency]:
    """Every installed package of an npm lockfile (v1 ``dependencies``, v2/3 ``packages``)."""
    lock = json_object(text, path)
    pairs = _lock_packages(lock) if "packages" in lock else _lock_v1(lock.get("dependencies"))
    return _locate(list(pairs), text.splitlines(), path)


def _lock_packages(lock: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """v2/v3: keys ``node_modules/a/node_modules/@scope/b``; the root ("") is the project."""
    packages = lock["packages"]
    for key, entry in packages.items() if isinstance(packages, dict) else ():
        name = key.rpartition("node_modules/")[2]
        if not isinstance(entry, dict) or "node_modules/" not in key or entry.get("link"):
            continue
        if isinstance(entry.get("version"), str):
            # An alias ("b": "npm:a@1") is installed under b but is package a, named in "name".
            real = entry.get("name")
            yield key, real if isinstance(real, str) and real else name, entry["version"]


def _lock_v1(dependencies: Any) -> Iterator[tuple[str, str, str]]:
    """v1: nested ``dependencies`` objects, walked in document order."""
    if not isinstance(dependencies, dict):
        return
    for name, entry in dependencies.items():
        if isinstance(entry, dict):
            version = entry.get("version")
            if isinstance(version, str) and version.startswith("npm:"):  # "npm:a@1.0.0"
                real, _, version = version.removeprefix("npm:").rpartition("@")
                yield name, real, version
            elif isinstance(version, str):
                yield name, name, version
            yield from _lock_v1(entry.get("dependencies"))


def _locate(pairs: list[tuple[str, str, str]], lines: list[str], path: str) -> list[Dependency]:
    """Find each key's line, searching on from the previous one (JSON keeps document order).

    The key must open an object: ``"lodash": "^4.17.0"`` under ``requires`` is not the entry.
    """
    found, cursor = [], 0
    for key, name, version in pairs:
        needle = re.compile(re.escape(json.dumps(key)) + r"\s*:\s*\{")
        at = next((i for i in range(cursor, len(lines)) if needle.search(lines[i])), None)
        number = 1 if at is None else at + 1
        cursor = cursor if at is None else at + 1
        text = lines[number - 1] if lines else ""
        found.append(make("npm", name, version, path, number, text))
    return found


def parse_go_mod(text: str, path: str) -> list[Dependency]:
    """``require`` lines, single or in a block (``// indirect`` ones included)."""
    found, in_block = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.split("//", 1)[0].strip()
        if in_block and body == ")":
            in_block = False
            continue
        if body.startswith("require"):
            rest = body.removeprefix("require").strip()
            in_block = rest == "("
            body = "" if in_block else rest
        elif not in_block:
            continue
        match = _GO_REQUIRE.match(body)
        if match:
            found.append(make("Go", match["name"], match["version"], path, number, line))
    return found


def parse_cargo_lock(text: str, path: str) -> list[Dependency]:
    """``[[package]]`` tables from a registry; path and git crates are the project's own."""
    found, lines = [], text.splitlines()
    for start, fields in _cargo_tables(lines):
        source = fields.get("source", ("", 0))[0]
        if "name" in fields and "version" in fields and source.startswith("registry+"):
            name, number = fields["name"]
            found.append(make("crates.io", name, fields["version"][0], path, number, lines[start]))
    return found


def _cargo_tables(lines: list[str]) -> Iterator[tuple[int, dict[str, tuple[str, int]]]]:
    """Each ``[[package]]`` as (index of its name line, {key: (value, line number)})."""
    fields: dict[str, tuple[str, int]] | None = None
    for index, line in enumerate([*lines, "[end]"]):
        if line.startswith("["):
            if fields and "name" in fields:
                yield fields["name"][1] - 1, fields
            fields = {} if line.strip() == "[[package]]" else None
        elif fields is not None and (match := _TOML_STRING.match(line.strip())):
            fields[match[1]] = (match[2], index + 1)


Parser = Callable[[str, str], list[Dependency]]

_BY_NAME: Final[dict[str, Parser]] = {
    "package-lock.json": parse_package_lock,
    "go.mod": parse_go_mod,
    "go.sum": otherlocks.parse_go_sum,
    "Cargo.lock": parse_cargo_lock,
    "poetry.lock": pylocks.parse_poetry_lock,
    "Pipfile.lock": pylocks.parse_pipfile_lock,
    "uv.lock": pylocks.parse_uv_lock,
    "yarn.lock": jslocks.parse_yarn_lock,
    "pnpm-lock.yaml": jslocks.parse_pnpm_lock,
    "Gemfile.lock": otherlocks.parse_gemfile_lock,
    "composer.lock": otherlocks.parse_composer_lock,
}


def parser_for(filename: str) -> Parser | None:
    """The parser for a manifest file name, or None when it is not one Vigil reads."""
    if filename.startswith("requirements") and filename.endswith(".txt"):
        return parse_requirements
    return _BY_NAME.get(filename)


def find_manifests(tree: Path) -> list[Path]:
    """Manifests under ``tree`` in path order, not descending into installed or vendored code.

    A go.sum beside a go.mod is left out: go.mod's ``require`` lines are what the build uses.
    """
    found = []
    for root, dirs, files in os.walk(tree):
        dirs[:] = [name for name in dirs if name not in _SKIP_DIRS]
        names = [name for name in files if parser_for(name)]
        if "go.mod" in names:
            names = [name for name in names if name != "go.sum"]
        found += [Path(root, name) for name in names]
    return sorted(found)
