"""JavaScript/TypeScript routes: Express and Koa (koa-router / @koa/router), read lexically.

A route is ``receiver.verb('/path', …middlewares, handler)`` in a file that imports Express
or a Koa router. ``receiver.use(mw)`` before a route guards it when ``mw`` looks like an auth
check; ``app.use('/prefix', [mw,] require('./routes/x'))`` mounts another file's router under
a prefix (resolved across files by the relative import).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from vigil_static_scan.endpoints.model import Endpoint, auth_hint, join_paths
from vigil_static_scan.endpoints.scanning import (
    call_args,
    identifiers,
    line_of,
    literal,
    mask_comments,
)

_FRAMEWORK: Final = (
    (re.compile(r"""['"](?:koa-router|@koa/router)['"]"""), "koa"),
    (re.compile(r"""['"]express['"]"""), "express"),
)
_CALL: Final = re.compile(
    r"\b([A-Za-z_$][\w$]*)\s*\.\s*(get|post|put|patch|delete|del|all|head|options|use)\s*\("
)
_NOT_ROUTERS: Final = frozenset(
    {"axios", "http", "https", "request", "superagent", "got", "fetch", "client", "api", "$",
     "map", "cache", "headers", "params", "searchParams", "query", "req", "res", "ctx", "this"}
)  # fmt: skip
_IMPORT: Final = re.compile(
    r"""(?:(?:const|let|var)\s+([\w$]+)\s*=\s*require\(\s*['"](\.[^'"]+)['"]\s*\)"""
    r"""|import\s+([\w$]+)\s+from\s+['"](\.[^'"]+)['"])"""
)
_KOA_PREFIX: Final = re.compile(
    r"""([\w$]+)\s*=\s*new\s+Router\s*\(\s*\{[^}]*prefix\s*:\s*['"]([^'"]*)['"]"""
)
_EXTENSIONS: Final = ("", ".js", ".ts", ".mjs", ".cjs", "/index.js", "/index.ts")


@dataclass
class Mount:
    """Where another file's router is used: its prefix and the auth guarding it."""

    prefix: str = ""
    auth: str = ""


@dataclass
class _File:
    path: str
    source: str
    framework: str
    guards: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # receiver → (at, hint)


def framework_of(source: str) -> str | None:
    """``express`` or ``koa`` when the file imports one of them."""
    return next((name for pattern, name in _FRAMEWORK if pattern.search(source)), None)


def collect_mounts(files: Mapping[str, str]) -> dict[str, Mount]:
    """Tree path of a router file → the prefix and auth it is mounted with elsewhere."""
    mounts: dict[str, Mount] = {}
    for path, raw in files.items():
        source = mask_comments(raw)
        imports = {
            m.group(1) or m.group(3): m.group(2) or m.group(4) for m in _IMPORT.finditer(source)
        }
        for match in _CALL.finditer(source):
            if match.group(2) != "use":
                continue
            args, _ = call_args(source, match.end() - 1)
            prefix = literal(args[0]) if args else None
            if prefix is None or len(args) < 2:
                continue
            target = _required(args[-1], imports)
            resolved = _resolve(path, target, files) if target else None
            if resolved:
                hint = auth_hint([n for a in args[1:-1] for n in identifiers(a)])
                guard = _guard_before(_guards(source), match.group(1), match.start())
                mounts[resolved] = Mount(prefix, hint or guard)
    return mounts


def _required(argument: str, imports: Mapping[str, str]) -> str | None:
    inline = re.fullmatch(r"""require\(\s*['"](\.[^'"]+)['"]\s*\)""", argument.strip())
    if inline:
        return inline.group(1)
    return imports.get(argument.strip())


def _resolve(importer: str, target: str, files: Mapping[str, str]) -> str | None:
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), target))
    return next((base + ext for ext in _EXTENSIONS if base + ext in files), None)


def _guards(source: str) -> dict[str, list[tuple[int, str]]]:
    """``receiver.use(authMiddleware)`` calls without a path: receiver → (offset, hint)."""
    guards: dict[str, list[tuple[int, str]]] = {}
    for match in _CALL.finditer(source):
        if match.group(2) != "use":
            continue
        args, _ = call_args(source, match.end() - 1)
        if args and literal(args[0]) is None:
            hint = auth_hint([n for a in args for n in identifiers(a)])
            if hint:
                guards.setdefault(match.group(1), []).append((match.start(), hint))
    return guards


def _guard_before(guards: Mapping[str, list[tuple[int, str]]], receiver: str, at: int) -> str:
    return next((hint for offset, hint in guards.get(receiver, []) if offset < at), "")


def extract(path: str, raw: str, mount: Mount | None) -> list[Endpoint]:
    """The routes one JavaScript/TypeScript file declares."""
    framework = framework_of(raw)
    if framework is None:
        return []
    source = mask_comments(raw)
    prefixes = {m.group(1): m.group(2) for m in _KOA_PREFIX.finditer(source)}
    guards = _guards(source)
    mount = mount or Mount()
    found = []
    for match in _CALL.finditer(source):
        receiver, verb = match.group(1), match.group(2)
        if verb == "use" or receiver in _NOT_ROUTERS:
            continue
        args, _ = call_args(source, match.end() - 1)
        route = literal(args[0]) if args else None
        if route is None or len(args) < 2 or not (route.startswith("/") or route == "*"):
            continue
        middlewares = [n for a in args[1:-1] for n in identifiers(a)]
        hint = (
            auth_hint(middlewares) or _guard_before(guards, receiver, match.start()) or mount.auth
        )
        found.append(
            Endpoint(
                method="ANY" if verb == "all" else "DELETE" if verb == "del" else verb.upper(),
                path=join_paths(mount.prefix, join_paths(prefixes.get(receiver, ""), route)),
                file_path=path, line=line_of(source, match.start()),
                handler=_handler_name(args[-1]), framework=framework,
                auth=bool(hint), auth_hint=hint,
            )
        )  # fmt: skip
    return found


def _handler_name(argument: str) -> str:
    named = re.match(r"(?:async\s+)?function\s*\*?\s*([\w$]+)", argument)
    if named:
        return named.group(1)
    if re.match(r"(?:async\s+)?(?:function\b|\(|[\w$]+\s*=>)", argument):
        return "<anonymous>"
    names = identifiers(argument)
    return names[0] if names else ""
