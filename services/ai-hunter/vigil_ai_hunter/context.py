"""Retrieved context for one file: the static findings in it and the definitions it uses.

Retrieval is lexical and deterministic: every function and class definition of the tree is
indexed by name; the names a file mentions (imported names first, then in order of first use)
pick the definitions shown beside it, within a character budget. The same tree always gives
the same context, so answers can be compared across runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import msgspec

from vigil_common.schemas import Finding

_DEFINITION: Final = re.compile(
    r"^(?P<indent>[ \t]*)(?:export\s+)?(?:public\s+|private\s+|static\s+)*(?:async\s+)?"
    r"(?:def|class|function|func(?:\s*\([^)]*\))?|fn|interface|struct)\s+(?P<name>[A-Za-z_]\w*)"
)
_IMPORT_LINE: Final = re.compile(r"^\s*(?:from\s+\S+\s+)?import\b|require\(|^\s*use\s")
_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
# A definition shown as context is cut after this many lines: the signature and the start of
# the body say what it does with its arguments.
MAX_DEFINITION_LINES: Final = 25
MAX_DEFINITIONS: Final = 8
MAX_CONTEXT_CHARS: Final = 4000
# Names so common that matching them would retrieve noise, not the code a file relies on.
_COMMON: Final = frozenset({"self", "cls", "main", "init", "__init__", "get", "set", "run", "new"})


class Definition(msgspec.Struct, frozen=True):
    """A function or class of the tree: where it is and its first lines."""

    name: str
    path: str
    start_line: int
    code: str


class FileContext(msgspec.Struct, frozen=True):
    """What the model sees beside a file: static findings in it and definitions it uses."""

    static_findings: list[str]
    definitions: list[Definition]


def definitions_in(path: str, text: str) -> list[Definition]:
    """Every definition of one file, each cut to its indented block or the line limit."""
    lines = text.splitlines()
    found: list[Definition] = []
    for index, line in enumerate(lines):
        match = _DEFINITION.match(line)
        if match:
            block = _block(lines, index, len(match.group("indent")))
            found.append(Definition(match.group("name"), path, index + 1, block))
    return found


def _block(lines: Sequence[str], start: int, indent: int) -> str:
    end = start + 1
    while end < len(lines) and end - start < MAX_DEFINITION_LINES:
        line = lines[end]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        end += 1
    return "\n".join(lines[start:end]).rstrip()


def build_index(files: Mapping[str, str]) -> dict[str, list[Definition]]:
    """Definitions of every file by name, in path order (``files`` maps path to text)."""
    index: dict[str, list[Definition]] = {}
    for path in sorted(files):
        for definition in definitions_in(path, files[path]):
            index.setdefault(definition.name, []).append(definition)
    return index


def referenced_names(text: str) -> list[str]:
    """Names a file mentions: those on import lines first, then in order of first use."""
    imported = [
        w for line in text.splitlines() if _IMPORT_LINE.search(line) for w in _WORD.findall(line)
    ]
    ordered = dict.fromkeys([*imported, *_WORD.findall(text)])
    return [name for name in ordered if name not in _COMMON]


def retrieve(
    path: str, text: str, index: Mapping[str, list[Definition]], static: Iterable[Finding]
) -> FileContext:
    """The context for ``path``: its static findings and the other files' definitions it uses."""
    chosen: list[Definition] = []
    budget = MAX_CONTEXT_CHARS
    for name in referenced_names(text):
        # The first definition elsewhere in the tree; same-file definitions are already shown.
        other = next((d for d in index.get(name, ()) if d.path != path), None)
        if other is None or len(other.code) > budget:
            continue
        chosen.append(other)
        budget -= len(other.code)
        if len(chosen) == MAX_DEFINITIONS:
            break
    ordered = sorted(static, key=lambda f: (f.start_line, f.rule_id))
    return FileContext([_note(f) for f in ordered], chosen)


def _note(f: Finding) -> str:
    cwe = ",".join(f.cwe) or "no CWE"
    return f"lines {f.start_line}-{f.end_line}: {f.rule_id} ({f.severity}, {cwe}): {f.title}"
