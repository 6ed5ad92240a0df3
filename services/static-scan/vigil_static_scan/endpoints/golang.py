"""Go routes: net/http (``HandleFunc``/``Handle``, Go 1.22 ``"GET /path"`` patterns), gin and
echo (verbs, ``Group`` prefixes with middlewares, ``Use``), read lexically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from vigil_static_scan.endpoints.model import HTTP_METHODS, Endpoint, auth_hint, join_paths
from vigil_static_scan.endpoints.scanning import (
    call_args,
    identifiers,
    line_of,
    literal,
    mask_comments,
)

_VERBS: Final = "|".join(HTTP_METHODS)
_CALL: Final = re.compile(
    rf"\b([A-Za-z_]\w*)\s*\.\s*({_VERBS}|Any|Handle|HandleFunc|Group|Use)\s*\("
)
_GROUP: Final = re.compile(r"\b([A-Za-z_]\w*)\s*:?=\s*([A-Za-z_]\w*)\s*\.\s*Group\s*\(")
_FRAMEWORKS: Final = (
    ("github.com/gin-gonic/gin", "gin"),
    ("github.com/labstack/echo", "echo"),
    ('"net/http"', "net/http"),
)


@dataclass
class _Router:
    prefix: str = ""
    auth: str = ""


def framework_of(source: str) -> str | None:
    """``gin``, ``echo`` or ``net/http`` from the file's imports (the first that matches)."""
    return next((name for needle, name in _FRAMEWORKS if needle in source), None)


def extract(path: str, raw: str) -> list[Endpoint]:
    """The routes one Go file declares."""
    framework = framework_of(raw)
    if framework is None:
        return []
    source = mask_comments(raw)
    routers = _routers(source)
    found = []
    for match in _CALL.finditer(source):
        receiver, verb = match.group(1), match.group(2)
        if verb in {"Group", "Use"}:
            continue
        args, _ = call_args(source, match.end() - 1)
        route = literal(args[0]) if args else None
        if route is None or len(args) < 2:
            continue
        where = (path, line_of(source, match.start()))
        endpoint = _endpoint(where, framework, receiver, verb, route, args[1:], routers)
        if endpoint is not None:
            found.append(endpoint)
    return found


def _routers(source: str) -> dict[str, _Router]:
    """Groups (``api := r.Group("/api", auth)``) and ``x.Use(auth)`` guards, in file order."""
    routers: dict[str, _Router] = {}
    for match in _GROUP.finditer(source):
        args, _ = call_args(source, match.end() - 1)
        parent = routers.get(match.group(2), _Router())
        prefix = literal(args[0]) if args else ""
        hint = auth_hint([n for a in args[1:] for n in identifiers(a)])
        routers[match.group(1)] = _Router(
            join_paths(parent.prefix, prefix or ""), hint or parent.auth
        )
    for match in _CALL.finditer(source):
        if match.group(2) == "Use":
            args, _ = call_args(source, match.end() - 1)
            hint = auth_hint([n for a in args for n in identifiers(a)])
            router = routers.setdefault(match.group(1), _Router())
            router.auth = router.auth or hint
    return routers


def _endpoint(
    where: tuple[str, int],
    framework: str,
    receiver: str,
    verb: str,
    route: str,
    rest: list[str],
    routers: dict[str, _Router],
) -> Endpoint | None:
    router = routers.get(receiver, _Router())
    names = [n for a in rest for n in identifiers(a)]
    if verb in {"Handle", "HandleFunc"}:
        method, _, pattern = route.partition(" ") if " " in route else ("ANY", "", route)
        if not pattern.startswith("/") and "/" not in pattern:
            return None
        handler = _innermost(rest[0]) if rest else ""
        hint = auth_hint(names[:-1] if verb == "HandleFunc" else _wrappers(rest[0])) or router.auth
        return _make(where, method.upper(), join_paths(router.prefix, pattern), handler,
                     framework, hint)  # fmt: skip
    if framework == "net/http":
        return None
    # gin: middlewares before the handler; echo: the handler first, middlewares after it.
    handler_arg = rest[-1] if framework == "gin" else rest[0]
    others = names[:-1] if framework == "gin" else names[1:]
    hint = auth_hint(others) or router.auth
    method = "ANY" if verb == "Any" else verb
    return _make(where, method, join_paths(router.prefix, route), _innermost(handler_arg),
                 framework, hint)  # fmt: skip


def _make(
    where: tuple[str, int], method: str, route: str, handler: str, framework: str, hint: str
) -> Endpoint:
    return Endpoint(
        method=method, path=route, file_path=where[0], line=where[1], handler=handler,
        framework=framework, auth=bool(hint), auth_hint=hint,
    )  # fmt: skip


def _wrappers(argument: str) -> list[str]:
    """The functions wrapping a handler: ``auth(http.HandlerFunc(h))`` gives ``auth``, …"""
    return [n for n in identifiers(argument.split("(", 1)[0])] + re.findall(
        r"([\w.]+)\s*\(", argument
    )


def _innermost(argument: str) -> str:
    names = [n for n in identifiers(argument) if n not in {"http.HandlerFunc", "func"}]
    return names[-1] if names else ""
