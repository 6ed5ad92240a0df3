"""The static stage's time on a large real tree beside Semgrep alone with the same rules.

The tree: up to 5,000 Python files of this project's own environment (``.venv``'s
site-packages, sorted by path so every run scans the same files). Both sides start from the
same files and use the same rules, jobs and per-file timeout:

- semgrep: the ``semgrep`` CLI run directly on the unpacked tree, as a user would;
- stage: what the static-scan worker does with a tree once it has it: unpack the stored
  ``.tar.gz``, run every scanner at once (Semgrep, secrets, dependency audit) and turn their
  reports into findings (``run_scanners``), then index the HTTP endpoints and look for an MCP
  server (storing findings and routes in PostgreSQL is left out).

One run of each (Semgrep alone first; rounds alternate the two when ROUNDS > 1). Writes
bench/results/static.json|md.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from vigil_common.config import load_settings
from vigil_common.schemas import ManifestFile, TreeManifest
from vigil_common.trees import pack_tree, unpack_tree
from vigil_static_scan import handlers, mcp_detect
from vigil_static_scan.endpoints.tree import extract
from vigil_static_scan.scanners import semgrep

HERE = Path(__file__).resolve().parent
FILES, ROUNDS, TARGET = 5_000, 1, 0.15


def python_files(root: Path, limit: int) -> list[Path]:
    """The first ``limit`` ``.py`` files under ``root`` by relative path."""
    found = sorted(p.relative_to(root) for p in root.rglob("*.py") if p.is_file())
    return found[:limit]


def make_tree(work: Path) -> tuple[Path, int, int]:
    """Copy the files into ``work/src`` and pack them as the stage receives them."""
    site = Path(sysconfig.get_paths()["purelib"])
    src, manifest_files, size = work / "src", [], 0
    for rel in python_files(site, FILES):
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site / rel, target)
        stat = target.stat().st_size
        size += stat
        manifest_files.append(ManifestFile(path=rel.as_posix(), size=stat, sha256=""))
    manifest = TreeManifest(files=manifest_files, total_files=len(manifest_files), total_bytes=size)
    pack_tree(src, manifest, work / "tree.packed")
    return src, len(manifest_files), size


def time_semgrep(src: Path, work: Path, jobs: int) -> dict[str, float | int]:
    """Semgrep alone on the tree, with the stage's rules and flags."""
    tree = work / "direct"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(src, tree)
    (tree / ".semgrepignore").write_text(semgrep.SEMGREPIGNORE)
    output = work / "direct.json"
    argv = semgrep.command(
        os.environ["VIGIL_SEMGREP_BIN"], [semgrep.RULES_DIR], output, jobs,
        handlers.PER_FILE_TIMEOUT_SECONDS,
    )  # fmt: skip
    started = time.perf_counter()
    subprocess.run(argv, cwd=tree, env={**os.environ, **semgrep.ENV}, check=False)
    seconds = time.perf_counter() - started
    results = len(json.loads(output.read_bytes()).get("results", []))
    return {"seconds": round(seconds, 2), "results": results}


async def _stage(work: Path) -> tuple[int, str]:
    settings = load_settings()
    stage_dir = work / "stage"
    shutil.rmtree(stage_dir, ignore_errors=True)
    stage_dir.mkdir()
    tree = stage_dir / "tree"
    await asyncio.to_thread(unpack_tree, work / "tree.packed", tree)
    found, note = await handlers.run_scanners(settings, tree, stage_dir)
    # The endpoint index and MCP detection as index_scan runs them (its rows are not stored).
    await asyncio.to_thread(extract, tree)
    await asyncio.to_thread(mcp_detect.detect, tree)
    return len(found), note


def time_stage(work: Path) -> dict[str, float | int | str]:
    """The stage's local work on the packed tree."""
    started = time.perf_counter()
    found, note = asyncio.run(_stage(work))
    return {"seconds": round(time.perf_counter() - started, 2), "findings": found, "note": note}


def main() -> None:
    jobs = load_settings().semgrep_jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="vigil-bench-static-") as tmp:
        work = Path(tmp)
        src, files, size = make_tree(work)
        runs: dict[str, list[dict[str, object]]] = {"semgrep": [], "stage": []}
        for _ in range(ROUNDS):
            runs["semgrep"].append(time_semgrep(src, work, jobs))
            runs["stage"].append(time_stage(work))
    best = {name: min(r, key=lambda x: float(x["seconds"])) for name, r in runs.items()}  # type: ignore[arg-type]
    overhead = float(best["stage"]["seconds"]) / float(best["semgrep"]["seconds"]) - 1  # type: ignore[arg-type]
    write({
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": sys.version.split()[0], "files": files, "megabytes": round(size / 2**20, 1),
        "jobs": jobs, "runs": runs, "best": best, "overhead": round(overhead, 3),
        "target_overhead": TARGET, "met": overhead < TARGET,
    })  # fmt: skip


def write(results: dict[str, object]) -> None:
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "static.json").write_text(json.dumps(results, indent=2) + "\n")
    best = results["best"]
    (out / "static.md").write_text(
        f"# Static stage ({results['date']}, {results['machine']})\n\n"
        f"{results['files']} Python files ({results['megabytes']} MB) of the project's own "
        f"site-packages, Vigil's rules, `-j {results['jobs']}`, best of the runs.\n\n"
        "| | seconds | results |\n|---|---|---|\n"
        f"| `semgrep scan` alone | {best['semgrep']['seconds']} | "  # type: ignore[index]
        f"{best['semgrep']['results']} Semgrep results |\n"  # type: ignore[index]
        "| static stage (unpack, Semgrep + secrets + dependency audit at once, findings, "
        f"endpoint index) | {best['stage']['seconds']} | "  # type: ignore[index]
        f"{best['stage']['findings']} findings |\n\n"  # type: ignore[index]
        f"Stage overhead above Semgrep itself: **{float(results['overhead']):.1%}** "  # type: ignore[arg-type]
        f"(target < {float(results['target_overhead']):.0%}: "  # type: ignore[arg-type]
        f"{'met' if results['met'] else 'not met'}).\n"
    )
    print((out / "static.md").read_text())


if __name__ == "__main__":
    main()
