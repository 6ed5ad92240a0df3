"""Python routes read with ``ast``: Flask, FastAPI, aiohttp and Django ``urls.py``.

Why ``ast`` rather than patterns: decorators, keyword arguments (``methods=``,
``dependencies=``), ``Depends(...)`` defaults and router prefixes are structure, which the
syntax tree gives exactly and for free (no extra process), where regexes break on line breaks.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from vigil_static_scan.endpoints.model import HTTP_METHODS, Endpoint, auth_hint, join_paths
from vigil_static_scan.endpoints.pyast import (
    arg,
    assignments,
    calls,
    dotted,
    functions,
    imported_roots,
    keyword,
    names_in,
    strings,
    text,
)

_VERBS: Final = frozenset(m.lower() for m in HTTP_METHODS)
_ROUTERS: Final = {
    "Flask": "flask", "Blueprint": "flask", "FastAPI": "fastapi", "APIRouter": "fastapi",
    "RouteTableDef": "aiohttp", "Application": "aiohttp",
}  # fmt: skip
_AIOHTTP_ADD: Final = frozenset({f"add_{verb}" for verb in _VERBS} | {"add_route", "add_view"})
_DJANGO_ROUTES: Final = frozenset({"path", "re_path", "url"})


@dataclass
class Router:
    """A Flask app or blueprint, FastAPI app or router, aiohttp app or route table."""

    framework: str
    prefix: str = ""
    auth: str = ""


@dataclass
class TreeFacts:
    """What one file's routes may depend on in other files of the tree."""

    # Function or class name → the auth check visible on it (decorator, mixin, permissions).
    protected: dict[str, str] = field(default_factory=dict)
    # ``module.router`` or ``router`` → (prefix, auth) given where it is included/registered.
    mounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    # An aiohttp application created with an auth middleware guards all its routes.
    aiohttp_auth: str = ""


def collect_facts(modules: Mapping[str, ast.Module]) -> TreeFacts:
    """Auth-guarded handlers, router mounts and app-wide middlewares across the tree."""
    facts = TreeFacts()
    for module in modules.values():
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                hint = _own_auth(node)
                if hint:
                    facts.protected[node.name] = hint
        for call in calls(module):
            _collect_mount(call, facts)
    return facts


def _own_auth(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    names = [n for d in node.decorator_list for n in names_in(d)]
    if isinstance(node, ast.ClassDef):
        names += [n for base in node.bases for n in names_in(base)]
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name)
                and t.id in {"permission_classes", "authentication_classes", "decorators"}
                for t in stmt.targets
            ):
                names += [n for n in names_in(stmt.value) if "AllowAny" not in n]
    else:
        names += _dependency_names(node)
    return auth_hint(names)


def _dependency_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Names inside ``Depends(...)``/``Security(...)`` defaults and ``Annotated`` hints."""
    # kw_defaults holds None for keyword-only parameters without a default.
    nodes: list[ast.AST] = [*func.args.defaults]
    nodes += [d for d in func.args.kw_defaults if d is not None]
    nodes += [a.annotation for a in (*func.args.args, *func.args.kwonlyargs) if a.annotation]
    found = []
    for node in nodes:
        for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
            if dotted(call.func).rsplit(".", 1)[-1] in {"Depends", "Security"}:
                found += names_in(call)
    return found


def _collect_mount(call: ast.Call, facts: TreeFacts) -> None:
    callee = dotted(call.func)
    last = callee.rsplit(".", 1)[-1]
    if last in {"include_router", "register_blueprint"} and call.args:
        prefix = text(keyword(call, "prefix") or keyword(call, "url_prefix")) or ""
        hint = auth_hint(names_in(keyword(call, "dependencies")))
        facts.mounts[dotted(call.args[0])] = (prefix, hint)
    elif last == "Application" and callee in {
        "Application",
        "web.Application",
        "aiohttp.web.Application",
    }:
        facts.aiohttp_auth = facts.aiohttp_auth or auth_hint(names_in(keyword(call, "middlewares")))


def extract(path: str, module: ast.Module, facts: TreeFacts) -> list[Endpoint]:
    """The routes one module declares."""
    roots = imported_roots(module) & {"flask", "fastapi", "aiohttp", "django"}
    if not roots:
        return []
    routers = _routers(path, module, facts)
    found = [e for func in functions(module) for e in _decorated(path, func, routers, roots)]
    found += [e for call in calls(module) for e in _registered(path, call, routers, roots, facts)]
    return found


def _routers(path: str, module: ast.Module, facts: TreeFacts) -> dict[str, Router]:
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    routers: dict[str, Router] = {}
    for name, call in assignments(module):
        framework = _ROUTERS.get(dotted(call.func).rsplit(".", 1)[-1])
        if framework is None:
            continue
        prefix = text(keyword(call, "prefix") or keyword(call, "url_prefix")) or ""
        hint = auth_hint(names_in(keyword(call, "dependencies") or keyword(call, "middlewares")))
        mount_prefix, mount_auth = facts.mounts.get(
            f"{stem}.{name}", facts.mounts.get(name, ("", ""))
        )
        if framework == "aiohttp":  # an app's middlewares guard every route table added to it
            hint = hint or facts.aiohttp_auth
        routers[name] = Router(framework, join_paths(mount_prefix, prefix), hint or mount_auth)
    for func in functions(module):  # Flask: a blueprint-wide before_request guard
        for decorator in func.decorator_list:
            owner, _, attr = dotted(decorator).rpartition(".")
            if attr == "before_request" and owner in routers:
                routers[owner].auth = routers[owner].auth or auth_hint([func.name])
    return routers


def _decorated(
    path: str,
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    routers: dict[str, Router],
    roots: set[str],
) -> list[Endpoint]:
    found = []
    for decorator in func.decorator_list:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        owner, attr = dotted(decorator.func.value), decorator.func.attr
        router = routers.get(owner) or _implicit_router(owner, roots)
        methods = _decorator_methods(attr, decorator, router)
        route = _decorator_path(attr, decorator, router)
        if router is None or methods is None or route is None:
            continue
        others = [n for d in func.decorator_list if d is not decorator for n in names_in(d)]
        own = names_in(keyword(decorator, "dependencies")) + _dependency_names(func)
        hint = auth_hint(others + own) or router.auth
        found += [
            Endpoint(
                method=method, path=join_paths(router.prefix, route), file_path=path,
                line=func.lineno, handler=func.name, framework=router.framework,
                auth=bool(hint), auth_hint=hint,
            )
            for method in methods
        ]  # fmt: skip
    return found


def _implicit_router(owner: str, roots: set[str]) -> Router | None:
    """A router imported from another module: its framework is the file's only one."""
    web_roots = roots - {"django"}
    if owner and len(web_roots) == 1:
        return Router(next(iter(web_roots)))
    return None


def _decorator_path(attr: str, call: ast.Call, router: Router | None) -> str | None:
    if attr == "route" and router is not None and router.framework == "aiohttp":
        return text(arg(call, 1, "path"))  # routes.route("GET", "/x")
    return text(arg(call, 0, "path") or keyword(call, "rule"))


def _decorator_methods(attr: str, call: ast.Call, router: Router | None) -> list[str] | None:
    if router is None:
        return None
    if attr == "route" and router.framework == "flask":
        return [m.upper() for m in strings(keyword(call, "methods"))] or ["GET"]
    if attr == "api_route" and router.framework == "fastapi":
        return [m.upper() for m in strings(keyword(call, "methods"))] or ["GET"]
    if attr == "route" and router.framework == "aiohttp":
        method = text(arg(call, 0, "method"))
        return [method.upper() if method and method != "*" else "ANY"]
    if attr == "view" and router.framework == "aiohttp":
        return ["ANY"]
    return [attr.upper()] if attr in _VERBS else None


def _registered(
    path: str, call: ast.Call, routers: dict[str, Router], roots: set[str], facts: TreeFacts
) -> list[Endpoint]:
    """Routes added by a call: aiohttp ``add_get``/``web.get``, Flask ``add_url_rule``,
    Django ``path``/``re_path``/``url``."""
    callee = dotted(call.func)
    owner, _, attr = callee.rpartition(".")
    found: list[Endpoint | None] = []
    if "aiohttp" in roots and attr in _AIOHTTP_ADD | _VERBS | {"route", "view"}:
        found = [_aiohttp_call(path, call, owner, attr, facts)]
    elif "flask" in roots and attr == "add_url_rule":
        router = routers.get(owner) or Router("flask")
        methods = [m.upper() for m in strings(keyword(call, "methods"))] or ["GET"]
        handler = arg(call, 2, "view_func")
        found = [
            _call_endpoint(path, call, "flask", method, router.prefix, handler, facts, router.auth)
            for method in methods
        ]
    elif _is_django_route(call, callee, roots):
        # Django matches paths without their leading slash; regexes are shown as written.
        regex = callee == "re_path" or (text(call.args[0]) or "").startswith("^")
        prefix = "" if regex else "/"
        found = [_call_endpoint(path, call, "django", "ANY", prefix, call.args[1], facts, "")]
    return [e for e in found if e is not None]


def _is_django_route(call: ast.Call, callee: str, roots: set[str]) -> bool:
    """``path("x/", view)``; an ``include(...)`` is another urls module, not a route."""
    if "django" not in roots or callee not in _DJANGO_ROUTES or len(call.args) < 2:
        return False
    return not dotted(call.args[1]).endswith("include")


def _aiohttp_call(
    path: str, call: ast.Call, owner: str, attr: str, facts: TreeFacts
) -> Endpoint | None:
    is_router = owner.endswith("router") and attr.startswith("add_")
    is_helper = owner.rsplit(".", 1)[-1] == "web" and not attr.startswith("add_")
    if not (is_router or is_helper):
        return None
    verb = attr.removeprefix("add_")
    if verb == "route":
        method = (text(arg(call, 0, "method")) or "ANY").upper()
        route_node, handler = arg(call, 1, "path"), arg(call, 2, "handler")
    else:
        method = "ANY" if verb == "view" else verb.upper()
        route_node, handler = arg(call, 0, "path"), arg(call, 1, "handler")
    route = text(route_node)
    if route is None:
        return None
    fake = ast.Call(func=call.func, args=[ast.Constant(route)], keywords=[])
    ast.copy_location(fake, call)
    return _call_endpoint(path, fake, "aiohttp", "ANY" if method == "*" else method, "", handler,
                          facts, facts.aiohttp_auth)  # fmt: skip


def _call_endpoint(
    path: str,
    call: ast.Call,
    framework: str,
    method: str,
    prefix: str,
    handler: ast.expr | None,
    facts: TreeFacts,
    router_auth: str,
) -> Endpoint | None:
    route = text(call.args[0]) if call.args else text(keyword(call, "rule"))
    if route is None:
        return None
    name = dotted(handler) if handler is not None else ""
    wrapped = names_in(handler) if isinstance(handler, ast.Call) else []
    handler_name = name.removesuffix(".as_view")
    hint = (
        auth_hint(wrapped)
        or facts.protected.get(handler_name.rsplit(".", 1)[-1], "")
        or router_auth
    )
    if isinstance(handler, ast.Call) and not name.endswith("as_view") and handler.args:
        handler_name = dotted(handler.args[0]) or handler_name  # login_required(views.x)
    return Endpoint(
        method=method, path=join_paths(prefix, route), file_path=path, line=call.lineno,
        handler=handler_name, framework=framework, auth=bool(hint), auth_hint=hint,
    )  # fmt: skip
