"""Small readers over Python's ``ast`` shared by the Python route extractor."""

from __future__ import annotations

import ast
from collections.abc import Iterator


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for a name or attribute chain (a call gives its callee's name), else ``""``."""
    if isinstance(node, ast.Call):
        return dotted(node.func)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def text(node: ast.AST | None) -> str | None:
    """The value of a string literal, else ``None``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value given to keyword ``name`` in ``call``, if any."""
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """The argument at ``index`` or given as keyword ``name``."""
    if len(call.args) > index:
        return call.args[index]
    return keyword(call, name)


def strings(node: ast.AST | None) -> list[str]:
    """The string literals of a list/tuple/set literal (or of a single string)."""
    if node is None:
        return []
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [s for element in node.elts if (s := text(element)) is not None]
    single = text(node)
    return [single] if single is not None else []


def names_in(node: ast.AST | None) -> list[str]:
    """Every dotted name used anywhere inside ``node`` (callees, arguments, subscripts)."""
    if node is None:
        return []
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name | ast.Attribute):
            name = dotted(child)
            if name:
                found.append(name)
    return found


def imported_roots(tree: ast.Module) -> set[str]:
    """The top-level packages the module imports (``from flask import x`` gives ``flask``)."""
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function and method of the module, nested ones included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def calls(tree: ast.Module) -> Iterator[ast.Call]:
    """Every call expression of the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def assignments(tree: ast.Module) -> Iterator[tuple[str, ast.Call]]:
    """``name = Callee(...)`` assignments: the target name and the call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.target, ast.Name)
        ):
            yield node.target.id, node.value
