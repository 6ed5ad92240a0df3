"""``make load``: locust against the gateway with many organisations' keys, headless.

Starts the embedded stack and every service (``pipeline.running_system``), creates
``ORGS`` organisations with a key each (the admin CLI), gives each a completed scan of
``examples/vulnerable-app`` (so reads return findings), then stops the workers so that the
figures are the gateway's alone (scans created under load stay queued), and runs locust
(``locustfile.py``) for ``VIGIL_LOAD_SECONDS`` with ``VIGIL_LOAD_USERS`` users. Writes
bench/results/load.json|md from locust's CSV statistics.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for pipeline.py

from pipeline import ROOT, System, running_system

from vigil_devstack import make_temp_home

HERE: Final = Path(__file__).resolve().parent
RESULTS: Final = HERE.parent / "results"
ORGS: Final = int(os.environ.get("VIGIL_LOAD_ORGS", "20"))
USERS: Final = int(os.environ.get("VIGIL_LOAD_USERS", "40"))
SECONDS: Final = int(os.environ.get("VIGIL_LOAD_SECONDS", "60"))
EXAMPLE: Final = ROOT / "examples" / "vulnerable-app"


def example_zip() -> bytes:
    """The example application as a ZIP (a few files with known findings)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(EXAMPLE.rglob("*")):
            if path.is_file():
                zf.write(path, f"vulnerable-app/{path.relative_to(EXAMPLE).as_posix()}")
    return buffer.getvalue()


def create_key(env: dict[str, str], org: str) -> str:
    """A new organisation and its key, through the operator CLI."""
    result = subprocess.run(
        [sys.executable, "-m", "vigil_gateway.admin", "create-key", "--org", org,
         "--name", "load"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout.strip().split()[-1]


async def seed_scans(url: str, keys: list[str], archive: bytes) -> list[str]:
    """One scan per key, each waited for until it ends; returns their ids."""
    async with aiohttp.ClientSession() as session:

        async def one(key: str) -> str:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/zip"}
            async with session.post(
                f"{url}/v1/scans?project=seed", data=archive, headers=headers
            ) as response:
                scan_id = str((await response.json())["id"])
            while True:
                async with session.get(f"{url}/v1/scans/{scan_id}", headers=headers) as response:
                    if (await response.json())["status"] in ("completed", "failed"):
                        return scan_id
                await asyncio.sleep(0.5)

        return list(await asyncio.gather(*(one(key) for key in keys)))


def seed(system: System, work: Path) -> Path:
    """Organisations, keys and scans; the seed file the locustfile reads."""
    with ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda i: create_key(system.env, f"load-{i:02d}"), range(ORGS)))
    archive = work / "small.zip"
    archive.write_bytes(example_zip())
    scans = asyncio.run(seed_scans(system.url, keys, archive.read_bytes()))
    path = work / "seed.json"
    orgs = [{"key": key, "scans": [scan]} for key, scan in zip(keys, scans, strict=True)]
    path.write_text(json.dumps({"orgs": orgs, "archive": str(archive)}))
    return path


def run_locust(url: str, seed_file: Path, work: Path) -> list[dict[str, str]]:
    """Locust, headless, for ``SECONDS``; its per-endpoint CSV rows."""
    prefix = work / "locust"
    locust = Path(sys.executable).parent / "locust"
    subprocess.run(
        [str(locust), "-f", str(HERE / "locustfile.py"), "--headless", "--host", url,
         "--users", str(USERS), "--spawn-rate", str(max(USERS // 5, 1)),
         "--run-time", f"{SECONDS}s", "--csv", str(prefix), "--only-summary",
         "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        env={**os.environ, "VIGIL_LOAD_SEED": str(seed_file)}, check=True,
    )  # fmt: skip
    with (work / "locust_stats.csv").open() as stats:
        return list(csv.DictReader(stats))


def summary(row: dict[str, str]) -> dict[str, Any]:
    """The figures kept from one locust row."""
    return {
        "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
        "rps": round(float(row["Requests/s"]), 1), "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
        "max_ms": round(float(row["Max Response Time"]), 1),
    }  # fmt: skip


def main() -> None:
    """Seed, load, write."""
    began = time.perf_counter()
    work = make_temp_home("vigil-load-")
    try:
        with running_system() as system:
            seed_file = seed(system, work)
            for service in system.services:
                if service.name != "gateway":
                    service.stop()
            rows = run_locust(system.url, seed_file, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    endpoints = {f"{r['Type']} {r['Name']}".strip(): summary(r) for r in rows}
    write({
        "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "tool": "locust 2.47.0",
        "orgs": ORGS, "users": USERS, "seconds": SECONDS,
        "total": endpoints.pop("Aggregated", endpoints.pop(" Aggregated", {})),
        "endpoints": endpoints, "bench_seconds": round(time.perf_counter() - began, 1),
    })  # fmt: skip


def write(results: dict[str, Any]) -> None:
    """bench/results/load.json and .md."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = "\n".join(
        f"| {name} | {e['requests']} | {e['failures']} | {e['rps']} | {e['p50_ms']} | "
        f"{e['p95_ms']} | {e['p99_ms']} |"
        for name, e in [*results["endpoints"].items(), ("all", results["total"])]
    )
    (RESULTS / "load.md").write_text(
        f"# Gateway under load ({results['date']}, {results['cores']} cores)\n\n"
        f"{results['tool']}, headless, {results['users']} users over {results['orgs']} "
        f"organisations' keys for {results['seconds']} s; the workers stopped (created scans "
        "stay queued), so the figures are the gateway's.\n\n"
        "| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms |\n"
        f"|---|---|---|---|---|---|---|\n{rows}\n"
    )
    print((RESULTS / "load.md").read_text())


if __name__ == "__main__":
    main()
