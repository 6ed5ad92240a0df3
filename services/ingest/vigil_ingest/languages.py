"""Which language a source file is written in: by extension, file name, shebang, then content.

The extension decides when it is known. Files without one (scripts in ``bin/``) are judged by
their shebang line, and a few well-known names (``Dockerfile``) by name. C headers are
ambiguous: ``.h`` counts as C++ when the content uses C++-only syntax.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Final

EXTENSIONS: Final = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".go": "go", ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".rb": "ruby",
    ".php": "php", ".rs": "rust", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".cs": "csharp", ".swift": "swift",
    ".scala": "scala", ".pl": "perl", ".pm": "perl", ".lua": "lua", ".dart": "dart",
    ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".clj": "clojure", ".r": "r",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ps1": "powershell", ".sql": "sql",
    ".html": "html", ".htm": "html", ".vue": "vue", ".svelte": "svelte",
    ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml",
    ".tf": "terraform", ".hcl": "terraform", ".xml": "xml", ".sol": "solidity",
}  # fmt: skip

FILE_NAMES: Final = {
    "dockerfile": "dockerfile", "containerfile": "dockerfile", "makefile": "make",
    "gemfile": "ruby", "rakefile": "ruby", "jenkinsfile": "groovy", "vagrantfile": "ruby",
}  # fmt: skip

# Interpreter (after ``env`` and any options) -> language.
INTERPRETERS: Final = {
    "python": "python", "node": "javascript", "deno": "typescript", "bun": "javascript",
    "ts-node": "typescript", "ruby": "ruby", "perl": "perl", "php": "php", "lua": "lua",
    "sh": "shell", "bash": "shell", "dash": "shell", "zsh": "shell", "ksh": "shell",
    "pwsh": "powershell", "Rscript": "r", "elixir": "elixir",
}  # fmt: skip

_VERSION_SUFFIX: Final = re.compile(r"[\d.]+$")
_HORIZONTAL_SPACE: Final = b" \t\x0b\x0c"  # what bytes.strip() removes, but line breaks
_CPP_MARKERS: Final = re.compile(rb"^\s*(class\s+\w+\s*[:{]|namespace\s+\w+|template\s*<)", re.M)


def language_of(path: str, head: bytes = b"") -> str | None:
    """The language of the file at ``path`` whose content starts with ``head``, if known."""
    pure = PurePosixPath(path)
    by_extension = EXTENSIONS.get(pure.suffix.lower())
    if by_extension == "c" and pure.suffix.lower() == ".h" and _CPP_MARKERS.search(head):
        return "cpp"
    if by_extension is not None:
        return by_extension
    return FILE_NAMES.get(pure.name.lower()) or shebang_language(head)


def shebang_language(head: bytes) -> str | None:
    """The language named by a ``#!`` line (``#!/usr/bin/env -S python3 -u`` is python)."""
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if words and PurePosixPath(words[0]).name == "env":
        words = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
    if not words:
        return None
    interpreter = _VERSION_SUFFIX.sub("", PurePosixPath(words[0]).name)
    return INTERPRETERS.get(interpreter)


def count_lines(data: bytes) -> int:
    """Lines of code: lines holding anything but whitespace (comments count; they are code)."""
    # Without spaces and tabs a blank line is empty, and the count runs in C, not per line.
    lines = data.translate(None, _HORIZONTAL_SPACE).splitlines()
    return len(lines) - lines.count(b"")
