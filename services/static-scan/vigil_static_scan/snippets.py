"""Reading the lines a finding points at, bounded so a minified file cannot bloat the database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

MAX_SNIPPET_LINES: Final = 12
MAX_SNIPPET_CHARS: Final = 2000

SnippetReader = Callable[[str, int, int], str]


def snippet_reader(root: Path) -> SnippetReader:
    """A reader of lines ``start..end`` of files under ``root`` (empty if outside the tree)."""
    base = root.resolve()

    def read(path: str, start: int, end: int) -> str:
        target = (base / path).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return ""
        with target.open(encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
        last = min(end, start + MAX_SNIPPET_LINES - 1)
        return "\n".join(lines[start - 1 : last])[:MAX_SNIPPET_CHARS]

    return read
