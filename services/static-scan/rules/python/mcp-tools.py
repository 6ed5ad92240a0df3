import os
import shlex
import subprocess
from pathlib import Path

import httpx
import requests
from mcp.server import Server
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("tools")
server = Server("low-level")
ROOT = Path("/srv/docs").resolve()
ALLOWED_HOSTS = {"api.github.com"}
ALLOWED_BRANCHES = {"main", "dev"}


@mcp.tool()
def grep(pattern: str, folder: str) -> str:
    # ruleid: vigil-python-mcp-tool-command-injection
    return subprocess.check_output(f"grep -r {pattern} {folder}", shell=True, text=True)


@mcp.tool()
async def ping(host: str) -> str:
    # ruleid: vigil-python-mcp-tool-command-injection
    return os.popen("ping -c 1 " + host).read()


@mcp.tool
def run(command: str) -> str:
    # ruleid: vigil-python-mcp-tool-command-injection
    return subprocess.run(command.split(), capture_output=True, text=True).stdout


@mcp.tool()
def grep_quoted(pattern: str) -> str:
    # ok: vigil-python-mcp-tool-command-injection
    return subprocess.check_output(f"grep -r {shlex.quote(pattern)} .", shell=True, text=True)


@mcp.tool()
def log(branch: str) -> str:
    if branch not in ALLOWED_BRANCHES:
        raise ValueError("unknown branch")
    # ok: vigil-python-mcp-tool-command-injection
    return subprocess.check_output(f"git log {branch}", shell=True, text=True)


@mcp.tool()
def status(ref: str) -> str:
    # ok: vigil-python-mcp-tool-command-injection
    return subprocess.run(["git", "show", "--", ref], capture_output=True, text=True).stdout


@server.call_tool()
async def call_tool(name, arguments):
    if name == "shell":
        # ruleid: vigil-python-mcp-tool-command-injection
        os.system(arguments["cmd"])
    return []


@mcp.tool()
def read_file(path: str) -> str:
    # ruleid: vigil-python-mcp-tool-path-traversal
    with open(path) as handle:
        return handle.read()


@mcp.resource("docs://{name}")
def doc(name: str) -> str:
    # ruleid: vigil-python-mcp-tool-path-traversal
    return Path(ROOT, name).read_text()


@mcp.tool()
async def delete(name: str) -> str:
    # ruleid: vigil-python-mcp-tool-path-traversal
    os.remove(os.path.join("/srv/docs", name))
    return "deleted"


@mcp.tool()
def read_confined(path: str) -> str:
    target = (ROOT / path).resolve()
    if not target.is_relative_to(ROOT):
        raise ValueError("outside the root")
    # ok: vigil-python-mcp-tool-path-traversal
    return open(target).read()


@mcp.tool()
def read_basename(name: str) -> str:
    # ok: vigil-python-mcp-tool-path-traversal
    return open(os.path.join("/srv/docs", os.path.basename(name))).read()


def not_a_tool(path: str) -> str:
    # ok: vigil-python-mcp-tool-path-traversal
    return open(path).read()


@mcp.tool()
def fetch(url: str) -> str:
    # ruleid: vigil-python-mcp-tool-ssrf
    return requests.get(url, timeout=10).text


@mcp.tool()
async def fetch_async(url: str) -> str:
    async with httpx.AsyncClient() as client:
        # ruleid: vigil-python-mcp-tool-ssrf
        response = await client.get(url)
    return response.text


@mcp.tool()
def repo(owner: str, name: str) -> str:
    # ok: vigil-python-mcp-tool-ssrf
    return requests.get(f"https://api.github.com/repos/{owner}/{name}", timeout=10).text


@mcp.tool()
def fetch_allowed(url: str) -> str:
    host = httpx.URL(url).host
    if host not in ALLOWED_HOSTS:
        raise ValueError("host not allowed")
    # ok: vigil-python-mcp-tool-ssrf
    return requests.get(url, timeout=10).text
