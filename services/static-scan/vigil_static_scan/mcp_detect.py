"""Whether a scanned tree implements an MCP (Model Context Protocol) server.

A source file importing an MCP SDK's *server* side decides it (Python ``mcp.server`` /
``FastMCP`` / ``fastmcp``, TypeScript ``@modelcontextprotocol/sdk/server``, Go ``mcp-go`` or
the official Go SDK). A manifest declaring the SDK (``mcp`` in requirements or pyproject,
``@modelcontextprotocol/sdk`` in package.json) counts too, unless the code only imports the
SDK's client side: an app that *calls* MCP servers is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import msgspec

_SERVER_IMPORT: Final = re.compile(
    r"^\s*(?:from\s+(?:mcp\.server|fastmcp)\b|import\s+fastmcp\b"
    r"|from\s+mcp\s+import\s+[^\n]*\bFastMCP\b)"
    r"|['\"](?:@modelcontextprotocol/sdk/server[^'\"]*|fastmcp)['\"]"
    r"|\"github\.com/(?:mark3labs/mcp-go/server|modelcontextprotocol/go-sdk/mcp)\"",
    re.MULTILINE,
)
_CLIENT_IMPORT: Final = re.compile(
    r"^\s*from\s+mcp(?:\.client\b|\s+import\s+[^\n]*\bClientSession\b)"
    r"|['\"]@modelcontextprotocol/sdk/client[^'\"]*['\"]",
    re.MULTILINE,
)
_PY_DEPENDENCY: Final = re.compile(
    r"""^\s*["']?(?:mcp|fastmcp)(?:\[[^\]]*\])?\s*(?:[<>=!~;@,"']|$)""", re.MULTILINE | re.I
)
_JS_DEPENDENCY: Final = re.compile(r"\"(?:@modelcontextprotocol/sdk|fastmcp)\"\s*:")
_GO_DEPENDENCY: Final = re.compile(r"github\.com/(?:mark3labs/mcp-go|modelcontextprotocol/go-sdk)")
_MANIFESTS: Final = {
    "requirements.txt": _PY_DEPENDENCY, "pyproject.toml": _PY_DEPENDENCY,
    "Pipfile": _PY_DEPENDENCY, "setup.py": _PY_DEPENDENCY, "setup.cfg": _PY_DEPENDENCY,
    "package.json": _JS_DEPENDENCY, "go.mod": _GO_DEPENDENCY,
}  # fmt: skip
_SOURCES: Final = frozenset({".py", ".js", ".mjs", ".cjs", ".ts", ".mts", ".go"})
_SKIPPED_DIRS: Final = frozenset({"node_modules", "vendor", ".git", ".venv", "venv"})
MAX_FILE_BYTES: Final = 512 * 1024


class McpDetection(msgspec.Struct, frozen=True):
    """The verdict and the first file that gave it (empty when not an MCP server)."""

    is_server: bool
    evidence: str = ""


def detect(tree: Path) -> McpDetection:
    """Whether ``tree`` implements an MCP server, and the file that says so."""
    declared, client_seen = "", False
    for path, text in _files(tree):
        name = path.rsplit("/", 1)[-1]
        if _SERVER_IMPORT.search(text) and Path(name).suffix in _SOURCES:
            return McpDetection(True, path)
        client_seen = client_seen or bool(_CLIENT_IMPORT.search(text))
        pattern = _MANIFESTS.get(name) or (_PY_DEPENDENCY if _is_requirements(name) else None)
        if pattern is not None and not declared and pattern.search(text):
            declared = path
    if declared and not client_seen:
        return McpDetection(True, declared)
    return McpDetection(False)


def _is_requirements(name: str) -> bool:
    return name.startswith("requirements") and name.endswith((".txt", ".in"))


def _files(tree: Path) -> Iterator[tuple[str, str]]:
    for file in sorted(tree.rglob("*")):
        relative = file.relative_to(tree)
        if _SKIPPED_DIRS.intersection(relative.parts[:-1]) or file.is_symlink():
            continue
        wanted = file.suffix in _SOURCES or file.name in _MANIFESTS or _is_requirements(file.name)
        if wanted and file.is_file() and file.stat().st_size <= MAX_FILE_BYTES:
            yield relative.as_posix(), file.read_text(errors="replace")
