"""Telling an MCP server apart from an app that merely calls one, or has nothing to do with MCP."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_static_scan.mcp_detect import McpDetection, detect

APPS = Path(__file__).parent / "fixtures" / "apps"


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"s.py": "from mcp.server.fastmcp import FastMCP\n"}, McpDetection(True, "s.py")),
        ({"s.py": "from mcp.server import Server\n"}, McpDetection(True, "s.py")),
        ({"s.py": "from fastmcp import FastMCP\n"}, McpDetection(True, "s.py")),
        (
            {"src/index.ts": 'import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"'},
            McpDetection(True, "src/index.ts"),
        ),
        (
            {"main.go": 'import "github.com/mark3labs/mcp-go/server"\n'},
            McpDetection(True, "main.go"),
        ),
        (
            {"requirements.txt": "flask==3.0\nmcp[cli]>=1.9\n"},
            McpDetection(True, "requirements.txt"),
        ),
        (
            {"package.json": '{"dependencies": {"@modelcontextprotocol/sdk": "^1.17.0"}}'},
            McpDetection(True, "package.json"),
        ),
        # A client of MCP servers declares the SDK too, but is not a server.
        (
            {"requirements.txt": "mcp==1.12\n", "agent.py": "from mcp import ClientSession\n"},
            McpDetection(False),
        ),
        (
            {"requirements.txt": "mcpx==1.0\nflask\n", "app.py": "import flask\n"},
            McpDetection(False),
        ),
        (
            {"app.py": "# from mcp.server import Server is how you would do it\n"},
            McpDetection(False),
        ),
    ],
)
def test_sdk_imports_and_manifests_decide(
    tmp_path: Path, files: dict[str, str], expected: McpDetection
) -> None:
    assert detect(tree(tmp_path, files)) == expected


def test_vendored_sdks_do_not_count(tmp_path: Path) -> None:
    files = {"node_modules/x/index.js": 'require("@modelcontextprotocol/sdk/server/mcp.js")'}
    assert detect(tree(tmp_path, files)) == McpDetection(False)


def test_only_the_mcp_fixture_app_is_an_mcp_server() -> None:
    verdicts = {app.name: detect(app).is_server for app in APPS.iterdir()}
    assert verdicts == {
        "python": False, "javascript": False, "go": False, "java": False, "mcp-python": True,
    }  # fmt: skip
