"""JavaScript lockfiles besides npm's: ``yarn.lock`` (v1 classic, berry v2+) and pnpm's.

YAML documents are composed, not loaded: nodes keep their line, and scalars stay strings
(``version: 1.10`` would otherwise load as the float 1.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import yaml

from vigil_static_scan.deps.model import Dependency, ManifestError, line_at, make
from vigil_static_scan.deps.versions import parse_semver

# Ranges that do not come from the registry: the project's own code, a path or a repository.
_LOCAL: Final = ("file:", "link:", "portal:", "workspace:", "patch:", "exec:")
# Lockfile versions up to 5.x key packages ``/name/version``; 6.0 on, ``name@version``.
_SLASH_KEYS: Final = frozenset({"3", "4", "5"})
# libyaml's parser when PyYAML was built with it: the pure-Python one is ten times slower.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_REMOTE: Final = ("http:", "https:", "git:", "git+", "github:", "gitlab:", "bitbucket:")


def _split(spec: str) -> tuple[str, str]:
    """``@scope/name@range`` → (``@scope/name``, ``range``); a scope's ``@`` is not the split."""
    at = spec.find("@", 1)
    return (spec, "") if at < 0 else (spec[:at], spec[at + 1 :])


def _registry(name: str, version: str) -> bool:
    return bool(name) and parse_semver(version) is not None


def parse_yarn_lock(text: str, path: str) -> list[Dependency]:
    """A ``yarn.lock`` of either generation: berry's is YAML with ``__metadata``."""
    if any(line.startswith("__metadata:") for line in text.splitlines()):
        return _parse_berry(text, path)
    return _parse_classic(text, path)


def _parse_classic(text: str, path: str) -> list[Dependency]:
    """v1: ``"a@^1", "a@^1.2":`` entry headers, each followed by an indented ``version "x"``."""
    found, lines = [], text.splitlines()
    header: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        if line and not line[0].isspace() and not line.startswith("#"):
            body = line.rstrip()
            header = (number, body.removesuffix(":")) if body.endswith(":") else None
        elif header and line.strip().startswith("version "):
            version = line.strip().removeprefix("version ").strip().strip('"')
            name = _classic_name(header[1])
            if name and _registry(name, version):
                found.append(make("npm", name, version, path, header[0], lines[header[0] - 1]))
            header = None
    return found


def _classic_name(specs: str) -> str | None:
    """The package an entry installs, or None when it is not a registry package."""
    name, spec = _split(specs.split(",", maxsplit=1)[0].strip().strip('"'))
    if spec.startswith("npm:"):  # an alias installs another package: "b@npm:a@^1"
        name, spec = _split(spec.removeprefix("npm:"))
    return None if spec.startswith(_LOCAL + _REMOTE) else name


def _compose(text: str, path: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise ManifestError(f"{path}: not valid YAML") from exc


def _items(node: yaml.Node | None) -> Iterator[tuple[str, yaml.Node, int]]:
    """(key, value, 1-based line of the key) of a mapping's scalar keys; nothing otherwise."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and isinstance(key.value, str):
                yield key.value, value, key.start_mark.line + 1


def _scalar(node: yaml.Node | None, key: str) -> str | None:
    for name, value, _ in _items(node):
        if name == key and isinstance(value, yaml.ScalarNode) and isinstance(value.value, str):
            return value.value
    return None


def _parse_berry(text: str, path: str) -> list[Dependency]:
    """v2+: each entry's ``resolution: "name@npm:1.2.3"``; other protocols are left out."""
    found, lines = [], text.splitlines()
    for key, entry, number in _items(_compose(text, path)):
        resolution = _scalar(entry, "resolution")
        if key == "__metadata" or resolution is None:
            continue
        name, spec = _split(resolution)
        version = spec.removeprefix("npm:")
        if spec.startswith("npm:") and _registry(name, version):
            found.append(make("npm", name, version, path, number, line_at(lines, number)))
    return found


def parse_pnpm_lock(text: str, path: str) -> list[Dependency]:
    """``packages`` keys of ``pnpm-lock.yaml``: ``/a/1.0.0_peer`` (v5), ``/a@1.0.0(peer)``
    (v6), ``a@1.0.0`` (v9). Keys naming a tarball, path or repository are left out.
    """
    root = _compose(text, path)
    major = (_scalar(root, "lockfileVersion") or "").split(".", maxsplit=1)[0]
    slash_form = major in _SLASH_KEYS
    lines, found = text.splitlines(), []
    packages = next((value for key, value, _ in _items(root) if key == "packages"), None)
    for key, _, number in _items(packages):
        pin = _pnpm_key(key, slash_form)
        if pin and _registry(*pin):
            found.append(make("npm", *pin, path, number, line_at(lines, number)))
    return found


def _pnpm_key(key: str, slash_form: bool) -> tuple[str, str] | None:
    """(name, version) of a ``packages`` key; peer suffixes (``_react@17``, ``(react@17)``) cut."""
    if slash_form:
        if not key.startswith("/"):
            return None
        name, _, version = key[1:].rpartition("/")
        return name, version.split("_")[0]
    name, version = _split(key.removeprefix("/").split("(")[0])
    return None if version.startswith(_LOCAL + _REMOTE) else (name, version)
