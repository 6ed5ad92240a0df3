"""Gateway read throughput beside the floor (one asyncpg SELECT per request), same run.

Starts the embedded stack, a gateway process and the bare handler process, seeds one scan,
then loads each server in turn (twice, alternating) with the same client and writes
bench/results/gateway.json and .md.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from vigil_common.sealing import generate_key
from vigil_devstack import make_temp_home, start_stack
from vigil_devstack.ports import free_port
from vigil_devstack.services import python_env, run_migrations, start_service, wait_ready

HERE = Path(__file__).resolve().parent
KEY = "vgl_bench-key-not-a-secret-0000000000000000000"
CONNECTIONS, SECONDS, ROUNDS = 50, 10.0, 3


async def seed(database_url: str) -> uuid.UUID:
    """One scan to read, owned by the bootstrap organisation."""
    conn = await asyncpg.connect(database_url)
    try:
        org = await conn.fetchval("SELECT id FROM organisations WHERE name = 'dev'")
        project = await conn.fetchval(
            "INSERT INTO projects (org_id, name) VALUES ($1, 'bench') RETURNING id", org
        )
        scan_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, status)"
            " VALUES ($1, $2, $3, 'upload', 'completed')",
            scan_id, org, project,
        )  # fmt: skip
        return scan_id
    finally:
        await conn.close()


def load(url: str, key: str) -> dict[str, object]:
    command = [sys.executable, str(HERE / "load.py"), url, key, str(CONNECTIONS), str(SECONDS)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def main() -> None:
    home = make_temp_home("vigil-bench-")
    with start_stack(home, throwaway=True) as stack:
        env = python_env({
            **stack.env, "VIGIL_BOOTSTRAP_API_KEY": KEY, "VIGIL_SEALING_KEY": generate_key(),
            "VIGIL_S3_CREATE_BUCKET": "true", "VIGIL_LOG_LEVEL": "WARNING",
            "VIGIL_RATE_LIMIT_READS": "100000000",
        })  # fmt: skip
        run_migrations(env)
        gateway = start_service("gateway", env, home / "logs")
        bare_port = free_port()
        bare = subprocess.Popen(
            [sys.executable, str(HERE / "bare_server.py"), str(bare_port)], env=env
        )
        try:
            wait_ready(gateway)
            scan_id = asyncio.run(seed(env["VIGIL_DATABASE_URL"]))
            time.sleep(1)
            results = measure(gateway.base_url, f"http://127.0.0.1:{bare_port}", scan_id)
        finally:
            gateway.stop()
            bare.terminate()
            bare.wait()
    write(results)


def measure(gateway_url: str, bare_url: str, scan_id: uuid.UUID) -> dict[str, object]:
    runs: dict[str, list[dict[str, object]]] = {"gateway": [], "bare": []}
    for _ in range(ROUNDS):
        runs["bare"].append(load(f"{bare_url}/v1/scans/{scan_id}", ""))
        runs["gateway"].append(load(f"{gateway_url}/v1/scans/{scan_id}", KEY))
    best = {name: max(r, key=lambda x: float(x["rps"])) for name, r in runs.items()}  # type: ignore[arg-type]
    ratio = float(best["gateway"]["rps"]) / float(best["bare"]["rps"])  # type: ignore[arg-type]
    return {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {_cores()} cores",
        "connections": CONNECTIONS, "seconds": SECONDS, "runs": runs, "best": best,
        "ratio": round(ratio, 2), "target_ratio": 0.7, "met": ratio >= 0.7,
    }  # fmt: skip


def _cores() -> int:
    return os.cpu_count() or 1


def write(results: dict[str, object]) -> None:
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "gateway.json").write_text(json.dumps(results, indent=2) + "\n")
    best = results["best"]
    rows = "\n".join(
        f"| {name} | {b['rps']} | {b['p50_ms']} | {b['p99_ms']} | {b['statuses']} |"  # type: ignore[index]
        for name, b in best.items()  # type: ignore[attr-defined]
    )
    (out / "gateway.md").write_text(
        f"# Gateway read throughput ({results['date']}, {results['machine']})\n\n"
        f"`GET /v1/scans/{{id}}`, {results['connections']} connections, {results['seconds']} s"
        " per run, best of the runs.\n\n| server | requests/s | p50 ms | p99 ms | statuses |\n"
        f"|---|---|---|---|---|\n{rows}\n\nGateway / bare handler: **{results['ratio']}** "
        f"(target ≥ {results['target_ratio']}: {'met' if results['met'] else 'not met'}).\n"
    )
    print((out / "gateway.md").read_text())


if __name__ == "__main__":
    main()
