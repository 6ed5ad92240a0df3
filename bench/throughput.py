"""Scans per minute for a batch of small scans with 1, 2 and 4 processes of every worker.

For each replica count a fresh system (embedded stack, ``N`` processes of each of the five
workers on the same durable consumers, one gateway) receives a batch of small scans (the
50-file tree of ``pipeline.py``), all submitted at once; the time runs from the first
``POST /v1/scans`` to the last signed webhook. Writes bench/results/throughput.json|md.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Final

import aiohttp
from pipeline import SIZES, Receiver, System, make_tree, running_system, submit

from vigil_devstack import make_temp_home

HERE: Final = Path(__file__).resolve().parent
BATCH: Final = int(os.environ.get("VIGIL_BENCH_BATCH", "30"))
REPLICAS: Final = (1, 2, 4)


async def batch(system: System, archive: bytes) -> dict[str, object]:
    """Submit ``BATCH`` scans at once and wait for every webhook."""
    receiver = Receiver()
    await receiver.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
            started = time.perf_counter()
            ids = await asyncio.gather(
                *(submit(session, system.url, archive, receiver.url, "bench-throughput")
                  for _ in range(BATCH))
            )  # fmt: skip
            submitted = time.perf_counter() - started
            await receiver.wait(set(ids))
    finally:
        await receiver.stop()
    finished = [receiver.arrived[i] for i in ids]
    seconds = max(at for at, _ in finished) - started
    return {
        "scans": BATCH, "seconds": round(seconds, 2), "submit_seconds": round(submitted, 2),
        "scans_per_minute": round(BATCH / seconds * 60, 1),
        "completed": sum(kind == "scan.completed" for _, kind in finished),
        "bad_signatures": receiver.bad_signatures,
    }  # fmt: skip


def main() -> None:
    """One fresh system per replica count."""
    began = time.perf_counter()
    work = make_temp_home("vigil-bench-trees-")
    runs: dict[str, Any] = {}
    try:
        tree = make_tree("small", SIZES["small"][0], work)
        for replicas in REPLICAS:
            with running_system(replicas) as system:
                runs[str(replicas)] = asyncio.run(batch(system, tree.archive))
            print(replicas, runs[str(replicas)], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = float(runs["1"]["scans_per_minute"])
    for run in runs.values():
        run["speedup"] = round(float(run["scans_per_minute"]) / base, 2)
    write({
        "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
        "python": sys.version.split()[0], "files_per_scan": tree.files, "batch": BATCH,
        "llm": "none (AI stages: deterministic parts only)", "replicas": runs,
        "bench_seconds": round(time.perf_counter() - began, 1),
    })  # fmt: skip


def write(results: dict[str, Any]) -> None:
    """bench/results/throughput.json and .md."""
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = "\n".join(
        f"| {n} | {r['seconds']} | {r['scans_per_minute']} | {r['speedup']} | "
        f"{r['completed']}/{r['scans']} |"
        for n, r in results["replicas"].items()
    )
    (out / "throughput.md").write_text(
        f"# Scan throughput ({results['date']}, {results['cores']} cores)\n\n"
        f"{results['batch']} scans of {results['files_per_scan']} files submitted at once; "
        "time from the first POST to the last signed webhook. No LLM configured.\n\n"
        "| processes per worker | seconds | scans/min | speed-up vs 1 | completed |\n"
        f"|---|---|---|---|---|\n{rows}\n"
    )
    print((out / "throughput.md").read_text())


if __name__ == "__main__":
    main()
