"""Code split into retrievable chunks: one per function, method or class.

Python is parsed with the standard library's ``ast``, which gives exact spans (decorators
included, so a route's decorator stays with its handler) and the names each definition calls.
Other languages use a heuristic: a definition line found by pattern, its block ended by brace
balance when the definition opens a brace, else by indentation. The heuristic needs no native
parser per language (tree-sitter wheels would add one per grammar) and only has to be good
enough to show a model the right lines; a Python file that does not parse falls back to it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Final

import msgspec

# A chunk shown as context is cut after this many lines: the signature and the start of the
# body say what it does with its arguments.
MAX_SHOWN_LINES: Final = 25
# A block is followed at most this far; a runaway brace count must not swallow a file.
MAX_BLOCK_LINES: Final = 400

_KEYWORD_DEFINITION: Final = re.compile(
    r"^(?P<indent>[ \t]*)(?:export\s+)?(?:default\s+)?(?:pub(?:\([^)]*\))?\s+)?"
    r"(?:public\s+|private\s+|protected\s+|static\s+|abstract\s+|final\s+)*(?:async\s+)?"
    r"(?:def|class|function\*?|func(?:\s*\([^)]*\))?|fn|interface|struct|trait|impl|module)"
    r"\s+(?P<name>[A-Za-z_$][\w$]*)"
)
# JavaScript/TypeScript functions bound to names: const f = (a) => …, const f = function …
_ARROW_DEFINITION: Final = re.compile(
    r"^(?P<indent>[ \t]*)(?:export\s+)?(?:const|let|var)\s+(?P<name>[A-Za-z_$][\w$]*)\s*"
    r"(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)"
)
# Java, C#, C, C++, Kotlin-ish methods: a return type, a name, parameters, then a brace.
_TYPED_DEFINITION: Final = re.compile(
    r"^(?P<indent>[ \t]*)(?:[\w<>\[\],.*&?]+\s+)+(?P<name>[A-Za-z_]\w*)\s*\([^;]*\)\s*"
    r"(?:throws\s+[\w.,\s]+)?\{\s*$"
)
_CALL: Final = re.compile(r"\b([A-Za-z_$][\w$]*)\s*\(")
_NOT_CALLS: Final = frozenset(
    {
        "if", "for", "while", "switch", "catch", "return", "new", "else", "function", "def",
        "class", "func", "fn", "print", "sizeof", "typeof", "await", "async", "elif", "with",
        "and", "or", "not", "in", "is", "lambda", "super", "this", "self", "throw", "yield",
    }
)  # fmt: skip
_STRING: Final = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`(?:\\.|[^`\\])*`')


class Chunk(msgspec.Struct, frozen=True):
    """A definition of the tree: where it is, its text and the names it calls."""

    name: str
    path: str
    start_line: int
    end_line: int
    code: str
    calls: tuple[str, ...]

    @property
    def shown(self) -> str:
        """The chunk's first lines, as shown to the model."""
        return "\n".join(self.code.splitlines()[:MAX_SHOWN_LINES]).rstrip()


def chunks_in(path: str, text: str) -> list[Chunk]:
    """Every definition of one file, in line order."""
    if path.endswith(".py"):
        try:
            return _python_chunks(path, text)
        except (SyntaxError, ValueError, RecursionError):
            pass  # not Python 3, or not valid: the heuristic still finds the definitions
    return _heuristic_chunks(path, text)


def _python_chunks(path: str, text: str) -> list[Chunk]:
    tree = ast.parse(text)
    lines = text.splitlines()
    found: list[Chunk] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            code = "\n".join(lines[start - 1 : end])
            found.append(Chunk(node.name, path, start, end, code, python_calls(node)))
    found.sort(key=lambda c: (c.start_line, c.name))
    return found


def python_calls(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[str, ...]:
    """Names called in ``node``'s body, in order of first call (``f()`` and ``x.f()`` give f).

    Decorators are left out: ``@app.route(…)`` says how the function is reached, not what
    it uses.
    """
    names: dict[str, None] = {}
    calls = [n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        if isinstance(call.func, ast.Name):
            names.setdefault(call.func.id)
        elif isinstance(call.func, ast.Attribute):
            names.setdefault(call.func.attr)
    return tuple(names)


def calls_in(text: str) -> tuple[str, ...]:
    """Names called in any language's text, by pattern, in order of first call."""
    names = dict.fromkeys(m.group(1) for m in _CALL.finditer(_STRING.sub('""', text)))
    return tuple(name for name in names if name not in _NOT_CALLS)


def _match(line: str) -> re.Match[str] | None:
    for pattern in (_KEYWORD_DEFINITION, _ARROW_DEFINITION, _TYPED_DEFINITION):
        match = pattern.match(line)
        if match and match.group("name") not in _NOT_CALLS:
            return match
    return None


def _heuristic_chunks(path: str, text: str) -> list[Chunk]:
    lines = text.splitlines()
    found: list[Chunk] = []
    for index, line in enumerate(lines):
        match = _match(line)
        if match is None:
            continue
        end = _block_end(lines, index, len(match.group("indent").expandtabs()))
        code = "\n".join(lines[index:end])
        name = match.group("name")
        # The signature `name(…)` looks like a call of itself; recursion is not a dependency.
        calls = tuple(called for called in calls_in(code) if called != name)
        found.append(Chunk(name, path, index + 1, end, code, calls))
    return found


def _block_end(lines: Sequence[str], start: int, indent: int) -> int:
    """The end (exclusive) of the block opened at ``lines[start]``."""
    limit = min(len(lines), start + MAX_BLOCK_LINES)
    # A brace on the definition line or the next two (a long signature) means braces delimit.
    for opener in range(start, min(start + 3, limit)):
        code = _code_of(lines[opener])
        if "{" in code:
            return _brace_end(lines, start, limit)
        if code.rstrip().endswith((";", ":")) and opener > start:
            break
    end = start + 1
    while end < limit:
        line = lines[end]
        if line.strip() and len(line.expandtabs()) - len(line.expandtabs().lstrip()) <= indent:
            # Ruby/Lua close with `end` at the definition's indent: it belongs to the block.
            return end + 1 if line.strip() == "end" else end
        end += 1
    return end


def _brace_end(lines: Sequence[str], start: int, limit: int) -> int:
    depth = 0
    opened = False
    for index in range(start, limit):
        code = _code_of(lines[index])
        depth += code.count("{") - code.count("}")
        opened = opened or "{" in code
        if opened and depth <= 0:
            return index + 1
    return limit


def _code_of(line: str) -> str:
    """A line without string literals and a trailing ``//`` or ``#`` comment (brace counting)."""
    code = _STRING.sub('""', line)
    return re.split(r"//|(?<![\w$])#(?![\[!{])", code, maxsplit=1)[0]
