"""Java routes: Spring MVC mapping annotations (with the class-level ``@RequestMapping``
prefix) and ``@WebServlet`` servlets, read lexically; ``@PreAuthorize``, ``@Secured`` and
``@RolesAllowed`` on the method or class count as a visible check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from vigil_static_scan.endpoints.model import Endpoint, auth_hint, join_paths
from vigil_static_scan.endpoints.scanning import (
    call_args,
    line_of,
    literal,
    mask_comments,
    string_end,
)

_ANNOTATION: Final = re.compile(r"@([A-Za-z_][\w.]*)\s*(\()?")
_CLASS: Final = re.compile(r"\b(?:class|interface)\s+([A-Za-z_]\w*)")
_METHOD: Final = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_WORD: Final = re.compile(r"\w+")
_MAPPINGS: Final = {
    "GetMapping": "GET", "PostMapping": "POST", "PutMapping": "PUT",
    "PatchMapping": "PATCH", "DeleteMapping": "DELETE", "RequestMapping": "ANY",
}  # fmt: skip
_SERVLET_METHODS: Final = {
    "doGet": "GET", "doPost": "POST", "doPut": "PUT", "doDelete": "DELETE",
    "doPatch": "PATCH", "doHead": "HEAD", "doOptions": "OPTIONS",
}  # fmt: skip
_AUTH_ANNOTATIONS: Final = ("PreAuthorize", "Secured", "RolesAllowed", "PostAuthorize")


@dataclass
class _Annotation:
    name: str
    args: list[str] = field(default_factory=list)


@dataclass
class _Class:
    prefixes: list[str] = field(default_factory=lambda: [""])
    auth: str = ""
    servlet: list[str] = field(default_factory=list)


def extract(path: str, raw: str) -> list[Endpoint]:
    """The routes one Java file declares."""
    if "Mapping" not in raw and "WebServlet" not in raw:
        return []
    source = mask_comments(raw)
    found: list[Endpoint] = []
    current, pending, i = _Class(), list[_Annotation](), 0
    while i < len(source):
        if source[i] in "\"'":
            i = string_end(source, i)
        elif annotation := _ANNOTATION.match(source, i):
            args: list[str] = []
            i = annotation.end()
            if annotation.group(2):
                args, i = call_args(source, annotation.end() - 1)
            pending.append(_Annotation(annotation.group(1).rsplit(".", 1)[-1], args))
        elif klass := _CLASS.match(source, i):
            current, pending, i = _class_of(pending), [], klass.end()
        elif method := _METHOD.match(source, i):
            found += _method(path, line_of(source, i), method.group(1), pending, current)
            pending, i = [], method.end()
        else:
            if source[i] in ";{}":
                pending = []  # a field or a statement: those annotations were not a route's
            word = _WORD.match(source, i)
            i = word.end() if word else i + 1
    return found


def _class_of(annotations: list[_Annotation]) -> _Class:
    klass = _Class(auth=_auth(annotations))
    for annotation in annotations:
        if annotation.name == "RequestMapping":
            klass.prefixes = _paths(annotation) or [""]
        elif annotation.name == "WebServlet":
            klass.servlet = _paths(annotation, ("value", "urlPatterns"))
    return klass


def _method(
    path: str, line: int, name: str, annotations: list[_Annotation], klass: _Class
) -> list[Endpoint]:
    hint = _auth(annotations) or klass.auth
    if name in _SERVLET_METHODS and not any(a.name in _MAPPINGS for a in annotations):
        return [_make(path, line, _SERVLET_METHODS[name], p, name, hint) for p in klass.servlet]
    found = []
    for annotation in annotations:
        method = _MAPPINGS.get(annotation.name)
        if method is None:
            continue
        methods = _request_methods(annotation) if method == "ANY" else [method]
        for prefix in klass.prefixes:
            for route in _paths(annotation) or [""]:
                found += [
                    _make(path, line, verb, join_paths(prefix, route), name, hint)
                    for verb in methods
                ]
    return found


def _make(path: str, line: int, method: str, route: str, handler: str, hint: str) -> Endpoint:
    return Endpoint(
        method=method, path=route or "/", file_path=path, line=line, handler=handler,
        framework="servlet" if handler in _SERVLET_METHODS else "spring", auth=bool(hint),
        auth_hint=hint,
    )  # fmt: skip


def _auth(annotations: list[_Annotation]) -> str:
    hint = next((f"@{a.name}" for a in annotations if a.name in _AUTH_ANNOTATIONS), "")
    return hint or auth_hint([f"@{a.name}" for a in annotations])


def _paths(annotation: _Annotation, keys: tuple[str, ...] = ("value", "path")) -> list[str]:
    """The path literals of an annotation: positional, ``value =``/``path =``, or ``{…}``."""
    found = []
    for argument in annotation.args:
        key, sep, value = argument.partition("=")
        if sep and key.strip() not in keys:
            continue
        text = (value if sep else argument).strip()
        items = text[1:-1].split(",") if text.startswith("{") else [text]
        found += [v for item in items if (v := literal(item.strip())) is not None]
    return found


def _request_methods(annotation: _Annotation) -> list[str]:
    for argument in annotation.args:
        key, sep, value = argument.partition("=")
        if sep and key.strip() == "method":
            methods = re.findall(r"RequestMethod\.([A-Z]+)", value)
            if methods:
                return methods
    return ["ANY"]
