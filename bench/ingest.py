"""Ingest of a 50 MB / 20,000-file archive beside plain ``unzip`` on the same archive.

The stage's local work is measured (extract with every check, classify, manifest, pack the
tree); the upload to S3 is left out, as it depends on the store. Each runs in a child process
so its peak memory (``wait4``) is its own. Writes bench/results/ingest.json and .md.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES, TARGET_BYTES = 20_000, 50 * 1024 * 1024
WORDS = "def return self import value data request user if else for in not None".split()  # noqa: SIM905


def make_archive(path: Path) -> int:
    """A deterministic source-like archive of FILES files, about TARGET_BYTES in all."""
    rng = random.Random(7)
    per_file = TARGET_BYTES // FILES
    written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(FILES):
            lines, size = [], 0
            while size < per_file:
                line = "    " + " ".join(rng.choices(WORDS, k=8)) + f"  # {rng.random():.6f}\n"
                lines.append(line)
                size += len(line)
            zf.writestr(f"repo/pkg{i % 200}/module_{i}.py", "".join(lines))
            written += size
    return written


def run(command: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-ingest-"))
    try:
        archive = work / "repo.zip"
        raw = make_archive(archive)
        unzip = run(["unzip", "-q", str(archive), "-d", str(work / "unzipped")])
        stage = run(
            [sys.executable, str(HERE / "ingest_work.py"), str(archive), str(work / "stage")]
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "date": time.strftime("%Y-%m-%d"), "files": FILES, "uncompressed_mb": round(raw / 2**20, 1),
        "unzip": unzip, "ingest": stage,
        "ingest_mb_per_s": round(raw / 2**20 / stage["seconds"], 1),
        "ratio_to_unzip": round(stage["seconds"] / unzip["seconds"], 1),
    }  # fmt: skip
    write(results)


def write(results: dict[str, object]) -> None:
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(results, indent=2) + "\n")
    unzip, stage = results["unzip"], results["ingest"]
    (out / "ingest.md").write_text(
        f"# Ingest ({results['date']})\n\n{results['files']} files, "
        f"{results['uncompressed_mb']} MB uncompressed, one ZIP.\n\n"
        "| | seconds | peak RSS MB |\n|---|---|---|\n"
        f"| `unzip -q` | {unzip['seconds']} | {unzip['peak_rss_mb']} |\n"  # type: ignore[index]
        f"| ingest (read in memory + checks, classify, manifest, pack) | {stage['seconds']} | "  # type: ignore[index]
        f"{stage['peak_rss_mb']} |\n\nIngest: {results['ingest_mb_per_s']} MB/s, "  # type: ignore[index]
        f"{results['ratio_to_unzip']} times unzip's time"
        " (it also checks, hashes, classifies and repacks;"
        " unzip writes 20,000 files, ingest one).\n"
    )
    print((out / "ingest.md").read_text())


if __name__ == "__main__":
    main()
