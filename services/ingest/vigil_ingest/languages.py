"""Language of a source file by its extension (a first cut; content sniffing comes later)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Final

EXTENSIONS: Final = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript",
    ".go": "go", ".java": "java", ".kt": "kotlin", ".rb": "ruby", ".php": "php",
    ".rs": "rust", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp",
    ".cs": "csharp", ".swift": "swift", ".scala": "scala",
    ".sh": "shell", ".bash": "shell", ".sql": "sql",
    ".html": "html", ".htm": "html", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
    ".tf": "terraform", ".xml": "xml",
}  # fmt: skip


def language_of(path: str) -> str | None:
    """The language a file is written in, or ``None`` when the extension is not known."""
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())
