"""Retrieved context for one file: its static findings and the code around it in the tree.

The tree is split into chunks, one per function, method or class (``chunks.py``). Beside a
file the model sees, in this order and within a character budget:

1. **callees**: definitions in other files of the names the file uses, the route handlers'
   calls first, then names on import lines, then names in order of first use;
2. **callers**: definitions in other files that call a function this file defines;
3. **related code**: the best chunks by BM25 over identifiers (``bm25.py``), fused by
   reciprocal rank with cosine similarity of embeddings when an embeddings server is set.

Without embeddings retrieval is lexical and deterministic: the same tree always gives the
same context, so answers can be compared across runs (and cached, see ``vigil_common.llm``).
"""

from __future__ import annotations

import ast
import builtins
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import msgspec

from vigil_ai_hunter.bm25 import BM25, tokenize
from vigil_ai_hunter.chunks import Chunk, chunks_in
from vigil_ai_hunter.endpoints import Endpoint
from vigil_ai_hunter.selection import is_shipped
from vigil_common.llm import Embedder
from vigil_common.schemas import Finding

_IMPORT_LINE: Final = re.compile(r"^\s*(?:from\s+\S+\s+)?import\b|require\(|^\s*use\s")
_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_QUOTED: Final = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
# `from app.db import x`: the module's parts are not names the file uses.
_FROM_MODULE: Final = re.compile(r"^\s*from\s+\S+")
_IMPORT_WORDS: Final = frozenset({"import", "from", "require", "use", "const", "let", "var"})
_BUILTINS: Final = frozenset(dir(builtins))
MAX_DEFINITIONS: Final = 8
MAX_CONTEXT_CHARS: Final = 4000
MAX_CALLEES_FIRST: Final = 5
MAX_CALLERS: Final = 3
MAX_RELATED: Final = 2
# A name defined in more files than this says nothing about who calls this file's function.
MAX_DEFINERS: Final = 2
# Reciprocal rank fusion's constant (Cormack et al.): damps the weight of the very first ranks.
RRF_K: Final = 60
# Characters of a chunk or file sent to the embeddings server (about 500 or 2000 tokens).
EMBED_CHUNK_CHARS: Final = 2000
EMBED_FILE_CHARS: Final = 8000
# Names so common that matching them would retrieve noise, not the code a file relies on.
_COMMON: Final = frozenset({"self", "cls", "main", "init", "__init__", "get", "set", "run", "new"})

CALLEE: Final = "used by this file"
CALLER: Final = "calls into this file"
RELATED: Final = "similar code"
_ROLE_ORDER: Final = {CALLEE: 0, CALLER: 1, RELATED: 2}


class Definition(msgspec.Struct, frozen=True):
    """A chunk shown beside the file: where it is, its first lines, and why it is shown."""

    name: str
    path: str
    start_line: int
    code: str
    role: str = CALLEE


class FileContext(msgspec.Struct, frozen=True):
    """What the model sees beside a file: static findings, routes and related definitions."""

    static_findings: list[str]
    definitions: list[Definition]
    endpoints: list[str] = msgspec.field(default_factory=list)


@dataclass
class CodeIndex:
    """Every chunk of the tree, by name, with a BM25 index and optional embeddings."""

    chunks: list[Chunk]
    by_name: dict[str, list[Chunk]]
    bm25: BM25
    # Filled by :func:`embed_index` with unit vectors: chunk position -> vector, path -> file's.
    vectors: dict[int, list[float]] = field(default_factory=dict)
    file_vectors: dict[str, list[float]] = field(default_factory=dict)


def definitions_in(path: str, text: str) -> list[Definition]:
    """Every definition of one file, each cut to the lines shown to the model."""
    return [Definition(c.name, c.path, c.start_line, c.shown) for c in chunks_in(path, text)]


def build_index(files: Mapping[str, str]) -> CodeIndex:
    """Chunks of every shipped file in path order, by name and in a BM25 index.

    Tests, fixtures, examples and docs are left out: production code does not call them, and
    a test helper named like a real function would be retrieved instead of it.
    """
    shipped = sorted(path for path in files if is_shipped(path))
    chunks = [chunk for path in shipped for chunk in chunks_in(path, files[path])]
    by_name: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_name.setdefault(chunk.name, []).append(chunk)
    bm25 = BM25([tokenize(f"{chunk.path} {chunk.code}") for chunk in chunks])
    return CodeIndex(chunks, by_name, bm25)


async def embed_index(
    index: CodeIndex, embedder: Embedder, files: Mapping[str, str], max_chunks: int
) -> int:
    """Embed the first ``max_chunks`` chunks and the ``files`` asked about; the tokens used.

    Raises :class:`vigil_common.llm.LLMError` when the server fails; the index is then left
    without vectors and retrieval stays lexical.
    """
    chunks = index.chunks[:max_chunks]
    paths = sorted(files)
    texts = [f"{c.path}\n{c.code}"[:EMBED_CHUNK_CHARS] for c in chunks]
    texts += [f"{path}\n{files[path]}"[:EMBED_FILE_CHARS] for path in paths]
    if not texts:
        return 0
    result = await embedder.embed(texts)
    # Stored as unit vectors, so a cosine is a dot product (most servers already send them).
    vectors = [_unit(vector) for vector in result.vectors]
    index.vectors = dict(enumerate(vectors[: len(chunks)]))
    index.file_vectors = dict(zip(paths, vectors[len(chunks) :], strict=True))
    return result.tokens


def referenced_names(text: str, path: str = "") -> list[str]:
    """Names a file uses from elsewhere: imported names first, then in order of first use.

    Python is read with ``ast``: imported symbols, then names loaded but never bound in the
    file and attributes called (``x.f()``), so a local variable named like a function
    elsewhere is not mistaken for it. Other languages go by words: those imported (quoted
    module paths left out), then the words of the other lines.
    """
    if path.endswith(".py"):
        try:
            return _python_names(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError):
            pass  # the words still say something
    imported: list[str] = []
    used: list[str] = []
    for line in text.splitlines():
        if _IMPORT_LINE.search(line):
            code = _FROM_MODULE.sub("", _QUOTED.sub("", line))
            imported += [w for w in _WORD.findall(code) if w not in _IMPORT_WORDS]
        else:
            used += _WORD.findall(line)
    return [name for name in dict.fromkeys([*imported, *used]) if name not in _COMMON]


def _python_names(tree: ast.Module) -> list[str]:
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name != "*"
    ]
    bound: set[str] = set()
    uses: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                uses.append((node.lineno, node.col_offset, node.id))
            else:
                bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            uses.append((node.func.end_lineno or node.lineno, node.func.col_offset, node.func.attr))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
    used = [name for _, _, name in sorted(uses) if name not in bound]
    names = dict.fromkeys([*imported, *used])
    return [name for name in names if name not in _COMMON and name not in _BUILTINS]


def retrieve(
    path: str,
    text: str,
    index: CodeIndex,
    static: Iterable[Finding],
    endpoints: Sequence[Endpoint] = (),
) -> FileContext:
    """The context for ``path``: static findings, routes, callees, callers and related code."""
    picker = _Picker(path)
    own = [c for c in index.chunks if c.path == path]
    handlers = _handlers(own, endpoints)
    own_names = {c.name for c in own}
    imports = "\n".join(line for line in text.splitlines() if _IMPORT_LINE.search(line))
    names = [n for c in handlers for n in c.calls] + referenced_names(text, path)
    callees = [
        chunk
        for name in dict.fromkeys(names)
        # The file's own definitions are in the file shown.
        if name not in own_names and name not in _COMMON
        if (chunk := _resolve(index.by_name.get(name, ()), path, imports)) is not None
    ]
    callable_names = {
        c.name for c in own if c.name not in _COMMON and len(index.by_name[c.name]) <= MAX_DEFINERS
    }
    callers = [c for c in index.chunks if c.path != path and callable_names & set(c.calls)]
    # Callees first but not all the room: callers and related code get theirs, and callees
    # fill what they leave.
    for chunk in callees[:MAX_CALLEES_FIRST]:
        picker.take(chunk, CALLEE)
    for chunk in callers[:MAX_CALLERS]:
        picker.take(chunk, CALLER)
    for chunk in _related(index, path, text)[:MAX_RELATED]:
        picker.take(chunk, RELATED)
    for chunk in callees[MAX_CALLEES_FIRST:]:
        picker.take(chunk, CALLEE)
    picker.chosen.sort(key=lambda d: _ROLE_ORDER[d.role])
    ordered = sorted(static, key=lambda f: (f.start_line, f.rule_id))
    routes = [e.describe() for e in sorted(endpoints, key=lambda e: (e.line, e.method, e.path))]
    return FileContext([_note(f) for f in ordered], picker.chosen, routes)


def _handlers(own: Sequence[Chunk], endpoints: Sequence[Endpoint]) -> list[Chunk]:
    """The innermost chunk around each route's line (the method, not its whole class)."""
    found: dict[tuple[int, str], Chunk] = {}
    for endpoint in sorted(endpoints, key=lambda e: e.line):
        around = [c for c in own if c.start_line <= endpoint.line <= c.end_line]
        if around:
            chunk = min(around, key=lambda c: (c.end_line - c.start_line, c.start_line))
            found.setdefault((chunk.start_line, chunk.name), chunk)
    return list(found.values())


class _Picker:
    """Collects definitions from other files, each once, within the count and size budget."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.chosen: list[Definition] = []
        self.budget = MAX_CONTEXT_CHARS
        self._seen: set[tuple[str, int]] = set()

    def take(self, chunk: Chunk, role: str) -> None:
        key = (chunk.path, chunk.start_line)
        shown = chunk.shown
        if chunk.path == self.path or key in self._seen or len(self.chosen) == MAX_DEFINITIONS:
            return
        if len(shown) > self.budget:
            return
        self._seen.add(key)
        self.budget -= len(shown)
        self.chosen.append(Definition(chunk.name, chunk.path, chunk.start_line, shown, role))


def _resolve(candidates: Sequence[Chunk], path: str, imports: str) -> Chunk | None:
    """The definition a name most likely means: one from a module the file imports, if any."""
    others = [c for c in candidates if c.path != path]
    for chunk in others:
        module = chunk.path.rsplit(".", 1)[0]
        dotted = module.replace("/", ".")
        # `from app.db import x`, `require('./db')`, `import "pkg/db"`: the module is named.
        if dotted in imports or module in imports or module.rsplit("/", 1)[-1] in imports:
            return chunk
    return others[0] if others else None


def _related(index: CodeIndex, path: str, text: str) -> list[Chunk]:
    """Chunks of other files by relevance: BM25, fused with cosine similarity when embedded."""
    others = [i for i, c in enumerate(index.chunks) if c.path != path]
    bm25 = index.bm25.scores(tokenize(text))
    rankings = [sorted((i for i in others if bm25[i] > 0), key=lambda i: (-bm25[i], i))]
    query = index.file_vectors.get(path)
    if query is not None:
        similar = {i: _dot(query, index.vectors[i]) for i in others if i in index.vectors}
        rankings.append(
            sorted((i for i in similar if similar[i] > 0), key=lambda i: (-similar[i], i))
        )
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, position in enumerate(ranking[:20]):
            fused[position] = fused.get(position, 0.0) + 1 / (RRF_K + rank + 1)
    return [index.chunks[i] for i in sorted(fused, key=lambda i: (-fused[i], i))]


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else list(vector)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine of two unit vectors."""
    return sum(x * y for x, y in zip(a, b, strict=False))


def _note(f: Finding) -> str:
    cwe = ",".join(f.cwe) or "no CWE"
    return f"lines {f.start_line}-{f.end_line}: {f.rule_id} ({f.severity}, {cwe}): {f.title}"
