"""Walk a scanned tree and run each language's route extractor over its files."""

from __future__ import annotations

import ast
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from vigil_static_scan.endpoints import golang, java, javascript, python
from vigil_static_scan.endpoints.model import Endpoint

log = logging.getLogger(__name__)

# Larger files are generated or bundled code, not hand-written routes.
MAX_FILE_BYTES: Final = 512 * 1024
_SKIPPED_DIRS: Final = frozenset(
    {"node_modules", "vendor", ".git", "dist", "build", "__pycache__", ".venv", "venv"}
)
_PY_FRAMEWORKS: Final = re.compile(r"\b(flask|fastapi|aiohttp|django)\b")
# What a bug in an extractor raises on an unexpected shape of code.
_EXTRACTOR_BUGS: Final = (
    AttributeError,
    TypeError,
    ValueError,
    IndexError,
    KeyError,
    RecursionError,
)
_JS: Final = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")


def extract(tree: Path) -> list[Endpoint]:
    """Every route found under ``tree``, ordered by file, line, method and path."""
    files = dict(_sources(tree))
    found = _python(files)
    js_files = {p: s for p, s in files.items() if p.endswith(_JS) and not p.endswith(".min.js")}
    mounts = javascript.collect_mounts(js_files)
    for path, source in js_files.items():
        found += _guarded(javascript.extract, path, source, mounts.get(path))
    for path, source in files.items():
        if path.endswith(".go"):
            found += _guarded(golang.extract, path, source)
        elif path.endswith(".java"):
            found += _guarded(java.extract, path, source)
    unique = {(e.method, e.path, e.file_path, e.line): e for e in found}
    return sorted(unique.values(), key=lambda e: (e.file_path, e.line, e.method, e.path))


def _guarded(extractor: Callable[..., list[Endpoint]], path: str, *args: Any) -> list[Endpoint]:
    """One file's routes; a file the extractor trips on is skipped, not the whole index."""
    try:
        return extractor(path, *args)
    except _EXTRACTOR_BUGS:
        log.warning("endpoint extraction skipped a file", extra={"path": path}, exc_info=True)
        return []


def _sources(tree: Path) -> Iterator[tuple[str, str]]:
    for file in tree.rglob("*"):
        relative = file.relative_to(tree)
        if _SKIPPED_DIRS.intersection(relative.parts[:-1]) or file.is_symlink():
            continue
        if file.suffix not in {".py", ".go", ".java", *_JS} or not file.is_file():
            continue
        if file.stat().st_size <= MAX_FILE_BYTES:
            yield relative.as_posix(), file.read_text(errors="replace")


def _python(files: dict[str, str]) -> list[Endpoint]:
    modules = {}
    for path, source in files.items():
        # Parsing is the cost: only modules that name a supported framework can matter.
        if path.endswith(".py") and _PY_FRAMEWORKS.search(source):
            module = _parse(path, source)
            if module is not None:
                modules[path] = module
    facts = python.collect_facts(modules)
    return [
        e for path, module in modules.items() for e in _guarded(python.extract, path, module, facts)
    ]


def _parse(path: str, source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old code are not our business
            return ast.parse(source, filename=path)
    except (SyntaxError, ValueError, RecursionError):
        log.debug("not parsed as Python: %s", path)
        return None
