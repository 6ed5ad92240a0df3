"""End-to-end scan latency through every service, beside the scanners run directly, same run.

Starts the embedded stack and the six services as real processes (as ``make run`` does), then
for a small, medium and large tree:

- pipeline: ``POST /v1/scans`` (JSON with a ``callback_url`` and secret), the ZIP ``PUT`` to
  the upload URL, ``POST /v1/scans/{id}/start``; timed from the first POST until the signed
  ``scan.completed`` webhook reaches a local receiver (its signature is checked);
- direct: the same tree unpacked, ``semgrep`` with Vigil's rules and the stage's flags
  concurrently with ``betterleaks`` as the stage runs it.

The trees are files of this project's own ``.venv`` site-packages (see ``source_files``).
No LLM is configured: the AI stages run only their deterministic parts. Rounds alternate the
two sides; medians are compared. Writes bench/results/pipeline.json|md.

The helpers here (trees, the running system, the receiver) are shared by ``throughput.py``
and ``loadtest/run.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import io
import itertools
import json
import os
import shutil
import statistics
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web

from vigil_common.sealing import generate_key
from vigil_devstack import make_temp_home, start_stack
from vigil_devstack.ports import free_port
from vigil_devstack.services import (
    WORKERS,
    ServiceProcess,
    python_env,
    run_migrations,
    start_service,
    stop_all,
    wait_ready,
)
from vigil_static_scan import handlers
from vigil_static_scan.scanners import secrets, semgrep

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
KEY: Final = "vgl_bench-key-not-a-secret-0000000000000000000"
SECRET: Final = "bench-callback-secret-not-a-secret"  # noqa: S105 - a fixed test value
# Files, and rounds of each side: Semgrep alone varies by a third from run to run on the
# 20,000-file tree here (21-36 s), so every size gets three rounds and medians are compared.
SIZES: Final = {"small": (50, 3), "medium": (2_000, 3), "large": (20_000, 3)}
# Small text files only: Semgrep's time grows with bytes, and 20,000 files must stay minutes.
MAX_FILE_BYTES: Final = 4096
SUFFIXES: Final = frozenset(
    {".py", ".pyi", ".pyx", ".pxd", ".json", ".js", ".ts", ".h", ".c", ".sql", ".sh", ".md",
     ".txt", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".css"}
)  # fmt: skip
SCAN_TIMEOUT_SECONDS: Final = 1800.0


def source_files(root: Path) -> list[Path]:
    """Text source files under ``root`` of at most ``MAX_FILE_BYTES``, sorted by path.

    Packaging metadata (``*.dist-info``) and byte code are left out.
    """
    found = []
    for path in root.rglob("*"):
        if path.suffix not in SUFFIXES or ".dist-info" in path.as_posix():
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_FILE_BYTES:
            found.append(path.relative_to(root))
    return sorted(found)


def spread(files: list[Path], count: int) -> list[Path]:
    """``count`` files spaced evenly through ``files``, so a small tree mixes packages too."""
    if count >= len(files):
        return files
    return [files[i * len(files) // count] for i in range(count)]


@dataclass
class Tree:
    """A benchmark repository: its unpacked folder and the same files as a ZIP."""

    name: str
    folder: Path
    archive: bytes
    files: int
    size: int


def make_tree(name: str, count: int, work: Path) -> Tree:
    """Copy ``count`` files of site-packages into ``work/name`` and zip them under ``repo/``."""
    site = Path(sysconfig.get_paths()["purelib"])
    chosen = spread(source_files(site), count)
    folder, buffer, size = work / name, io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in chosen:
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(site / rel, target)
            size += target.stat().st_size
            zf.write(target, f"repo/{rel.as_posix()}")
    return Tree(name, folder, buffer.getvalue(), len(chosen), size)


def scanner_env() -> dict[str, str]:
    """The scanner settings: the ones set (``make`` exports them), else ``.venv-scanners``."""
    scanners = ROOT / ".venv-scanners" / "bin"
    return {
        "VIGIL_SEMGREP_BIN": os.environ.get("VIGIL_SEMGREP_BIN") or str(scanners / "semgrep"),
        "VIGIL_BETTERLEAKS_BIN": os.environ.get("VIGIL_BETTERLEAKS_BIN")
        or str(scanners / "betterleaks"),
    }


@dataclass
class System:
    """The running system: the gateway's URL, every service process and their environment."""

    url: str
    env: dict[str, str]
    services: list[ServiceProcess] = field(default_factory=list)


@contextmanager
def running_system(
    replicas: int = 1, *, workers: bool = True, extra: dict[str, str] | None = None
) -> Iterator[System]:
    """The embedded stack and the services, ``replicas`` processes of each worker."""
    home = make_temp_home("vigil-bench-")
    try:
        with start_stack(home, throwaway=True) as stack:
            env = python_env({
                **stack.env, **scanner_env(), "VIGIL_BOOTSTRAP_API_KEY": KEY,
                "VIGIL_SEALING_KEY": generate_key(), "VIGIL_S3_CREATE_BUCKET": "true",
                "VIGIL_ALLOW_PRIVATE_NETWORKS": "true",  # the receiver is on loopback
                "VIGIL_LOG_LEVEL": "WARNING", "VIGIL_MAX_RUNNING_SCANS_PER_ORG": "0",
                "VIGIL_RATE_LIMIT_READS": "100000000", "VIGIL_RATE_LIMIT_WRITES": "100000000",
                "VIGIL_RATE_LIMIT_SCANS": "100000000", **(extra or {}),
            })  # fmt: skip
            run_migrations(env)
            system = System("", env)
            try:
                if workers:
                    # Every replica started at once, then waited for: start-up overlaps.
                    for index in range(replicas):
                        logs = home / "logs" / f"replica-{index}"
                        system.services += [start_service(n, env, logs) for n in WORKERS]
                    for service in system.services:
                        wait_ready(service, timeout=180)
                port = free_port()
                system.services.append(start_service("gateway", env, home / "logs", port=port))
                wait_ready(system.services[-1], timeout=180)
                system.url = f"http://127.0.0.1:{port}"
                yield system
            finally:
                stop_all(system.services)
    finally:
        shutil.rmtree(home, ignore_errors=True)


class Receiver:
    """A local webhook endpoint: when each scan's signed event arrived, and its type."""

    def __init__(self) -> None:
        self.arrived: dict[str, tuple[float, str]] = {}
        self.bad_signatures = 0
        self.changed = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.perf_counter()
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if request.headers.get("X-Vigil-Signature") != f"sha256={expected}":
            self.bad_signatures += 1
            return web.Response(status=401)
        event = json.loads(body)
        scan_id = str(event["data"]["scan_id"])
        self.arrived.setdefault(scan_id, (now, str(event["type"])))
        self.changed.set()
        return web.Response(status=204)

    async def wait(self, scan_ids: set[str]) -> None:
        """Until every scan in ``scan_ids`` has its event; TimeoutError past the time limit."""
        async with asyncio.timeout(SCAN_TIMEOUT_SECONDS):
            while not scan_ids <= self.arrived.keys():
                self.changed.clear()
                await self.changed.wait()


async def submit(
    session: aiohttp.ClientSession, url: str, archive: bytes, callback: str, project: str
) -> str:
    """Create a scan with a callback, upload its ZIP and start it; returns its id."""
    auth = {"Authorization": f"Bearer {KEY}"}
    body = {"source_type": "zip", "project": project, "callback_url": callback,
            "callback_secret": SECRET}  # fmt: skip
    async with session.post(f"{url}/v1/scans", json=body, headers=auth) as response:
        created: dict[str, Any] = await response.json()
        if response.status != 201:
            raise RuntimeError(f"scan creation answered {response.status}: {created}")
    upload = created["upload"]
    async with session.put(upload["url"], data=archive, headers=upload["headers"]) as response:
        if response.status >= 300:
            raise RuntimeError(f"upload answered {response.status}: {await response.text()}")
    scan_id = str(created["id"])
    async with session.post(f"{url}/v1/scans/{scan_id}/start", headers=auth) as response:
        if response.status != 200:
            raise RuntimeError(f"start answered {response.status}: {await response.text()}")
    return scan_id


async def time_pipeline(
    session: aiohttp.ClientSession, system: System, receiver: Receiver, tree: Tree
) -> dict[str, object]:
    """One scan of ``tree``: seconds from the first POST to its webhook, and its outcome."""
    started = time.perf_counter()
    scan_id = await submit(session, system.url, tree.archive, receiver.url, "bench-pipeline")
    await receiver.wait({scan_id})
    arrived, event_type = receiver.arrived[scan_id]
    auth = {"Authorization": f"Bearer {KEY}"}
    async with session.get(f"{system.url}/v1/scans/{scan_id}", headers=auth) as response:
        scan = await response.json()
    return {
        "seconds": round(arrived - started, 2), "event": event_type,
        "findings": sum(scan.get("finding_counts", {}).values()), "scan_id": scan_id,
        "steps": steps(scan.get("history", [])),
    }  # fmt: skip


def steps(history: list[dict[str, Any]]) -> list[dict[str, object]]:
    """Seconds from each status-history step to the next: where the pipeline's time goes."""
    ordered = sorted(history, key=lambda entry: str(entry["at"]))
    timed = []
    for before, after in itertools.pairwise(ordered):
        took = dt.datetime.fromisoformat(after["at"]) - dt.datetime.fromisoformat(before["at"])
        label = "/".join(str(before[k]) for k in ("name", "stage", "status") if before.get(k))
        timed.append({"from": label, "seconds": round(took.total_seconds(), 2)})
    return timed


async def time_direct(tree: Tree, work: Path, env: dict[str, str]) -> dict[str, object]:
    """Semgrep (Vigil's rules, the stage's flags) and betterleaks at once on a fresh copy."""
    copy = work / f"direct-{tree.name}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(tree.folder, copy)
    (copy / ".semgrepignore").write_text(semgrep.SEMGREPIGNORE)
    jobs = int(env.get("VIGIL_SEMGREP_JOBS") or 0) or os.cpu_count() or 1
    semgrep_out, secrets_out = work / "direct-semgrep.json", work / "direct-secrets.json"
    argv = semgrep.command(
        env["VIGIL_SEMGREP_BIN"], [semgrep.RULES_DIR], semgrep_out, jobs,
        handlers.PER_FILE_TIMEOUT_SECONDS,
    )  # fmt: skip
    started = time.perf_counter()
    procs = [
        await asyncio.create_subprocess_exec(
            *argv, cwd=copy, env={**os.environ, **semgrep.ENV},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        ),
        await asyncio.create_subprocess_exec(
            *secrets.command(env["VIGIL_BETTERLEAKS_BIN"], secrets_out), cwd=copy,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    await asyncio.gather(*(p.wait() for p in procs))
    seconds = time.perf_counter() - started
    results = len(json.loads(semgrep_out.read_bytes()).get("results", []))
    leaks = len(secrets.decode_report(secrets_out.read_bytes()).findings)
    shutil.rmtree(copy, ignore_errors=True)
    return {"seconds": round(seconds, 2), "semgrep_results": results, "secrets": leaks}


def median_seconds(runs: list[dict[str, object]]) -> float:
    """The median of the runs' ``seconds``."""
    return round(statistics.median(float(str(r["seconds"])) for r in runs), 2)


async def measure(system: System, trees: list[Tree], work: Path) -> dict[str, object]:
    """Every size: rounds alternating direct and pipeline, then medians and the target."""
    receiver = Receiver()
    await receiver.start()
    sizes: dict[str, object] = {}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
            for tree in trees:
                runs: dict[str, list[dict[str, object]]] = {"direct": [], "pipeline": []}
                for _ in range(SIZES[tree.name][1]):
                    runs["direct"].append(await time_direct(tree, work, system.env))
                    runs["pipeline"].append(await time_pipeline(session, system, receiver, tree))
                    print(tree.name, runs["direct"][-1], runs["pipeline"][-1], flush=True)
                direct, pipeline = median_seconds(runs["direct"]), median_seconds(runs["pipeline"])
                sizes[tree.name] = {
                    "files": tree.files, "megabytes": round(tree.size / 2**20, 2),
                    "zip_megabytes": round(len(tree.archive) / 2**20, 2), "runs": runs,
                    "direct_median": direct, "pipeline_median": pipeline,
                    "ratio": round(pipeline / direct, 2), "limit": round(1.2 * direct + 1, 2),
                    "met": pipeline < 1.2 * direct + 1,
                }  # fmt: skip
    finally:
        await receiver.stop()
    return {"sizes": sizes, "bad_signatures": receiver.bad_signatures}


def main() -> None:
    """Build the trees, run the system, measure, write the results."""
    began = time.perf_counter()
    work = make_temp_home("vigil-bench-trees-")
    try:
        # VIGIL_BENCH_SIZES=small,medium runs only those (a quick check of the benchmark).
        chosen = os.environ.get("VIGIL_BENCH_SIZES", ",".join(SIZES)).split(",")
        trees = [make_tree(name, SIZES[name][0], work) for name in chosen]
        with running_system() as system:
            results = asyncio.run(measure(system, trees, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write({
        "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
        "python": sys.version.split()[0], "llm": "none (AI stages: deterministic parts only)",
        "max_file_bytes": MAX_FILE_BYTES, **results,
        "bench_seconds": round(time.perf_counter() - began, 1),
    })  # fmt: skip


def write(results: dict[str, Any]) -> None:
    """bench/results/pipeline.json and .md."""
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "pipeline.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = "\n".join(
        f"| {name} | {s['files']} ({s['megabytes']} MB) | {s['direct_median']} | "
        f"{s['pipeline_median']} | {s['ratio']} | {s['limit']} | "
        f"{'met' if s['met'] else 'not met'} |"
        for name, s in results["sizes"].items()
    )
    (out / "pipeline.md").write_text(
        f"# End-to-end pipeline latency ({results['date']}, {results['cores']} cores)\n\n"
        "Seconds from `POST /v1/scans` (then the ZIP upload and start) to the signed "
        "`scan.completed` webhook, beside Semgrep + betterleaks run directly on the same tree. "
        f"Files of at most {results['max_file_bytes']} bytes from the project's site-packages. "
        f"No LLM configured. Medians of the rounds.\n\n"
        "| tree | files | direct s | pipeline s | ratio | target: pipeline < s | |\n"
        f"|---|---|---|---|---|---|---|\n{rows}\n{slowest_steps(results['sizes'])}"
    )
    print((out / "pipeline.md").read_text())


def slowest_steps(sizes: dict[str, Any]) -> str:
    """Per tree, the three longest status-history steps of its last pipeline run."""
    lines = []
    for name, size in sizes.items():
        timed = size["runs"]["pipeline"][-1].get("steps", [])
        top = sorted(timed, key=lambda step: -float(step["seconds"]))[:3]
        if top:
            shown = ", ".join(f"`{step['from']}` {step['seconds']} s" for step in top)
            lines.append(f"- {name}: {shown}")
    if not lines:
        return ""
    return "\nLongest steps of the scan's status history (last run):\n\n" + "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
