"""``make bench``'s last step: bench/results.md from every bench/results/*.json there is.

One page: the machine the figures come from, then each benchmark's medians or best figures
and how they compare with its target. A benchmark without results is listed as not run.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
RESULTS: Final = HERE / "results"


def _proc_field(path: str, name: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine() -> list[str]:
    """CPU model, cores, memory, Python and OS of this machine."""
    kib = _proc_field("/proc/meminfo", "MemTotal").split()
    memory = f"{int(kib[0]) / 2**20:.1f} GiB" if kib else "unknown"
    return [
        f"- CPU: {_proc_field('/proc/cpuinfo', 'model name') or platform.processor() or '?'}"
        f" ({platform.machine()})",
        f"- cores: {os.cpu_count()}",
        f"- memory: {memory}",
        f"- Python: {sys.version.split()[0]} ({platform.python_implementation()})",
        f"- OS: {platform.platform()}",
    ]


def _met(flag: object) -> str:
    return "met" if flag else "**not met**"


def gateway(r: dict[str, Any]) -> list[str]:
    """Best requests/s of the gateway and the bare handler, and their ratio."""
    g, b = r["best"]["gateway"], r["best"]["bare"]
    return [
        f"`GET /v1/scans/{{id}}`, {r['connections']} connections, best of the runs:",
        f"gateway {g['rps']} req/s (p50 {g['p50_ms']} ms, p99 {g['p99_ms']} ms), "
        f"bare handler {b['rps']} req/s.",
        f"Ratio **{r['ratio']}** (target ≥ {r['target_ratio']}: {_met(r['met'])}).",
    ]


def ingest(r: dict[str, Any]) -> list[str]:
    """Ingest's time and memory beside unzip."""
    return [
        f"{r['files']} files, {r['uncompressed_mb']} MB: ingest {r['ingest']['seconds']} s "
        f"({r['ingest_mb_per_s']} MB/s, peak {r['ingest']['peak_rss_mb']} MB), "
        f"unzip {r['unzip']['seconds']} s.",
        f"Ratio to unzip **{r['ratio_to_unzip']}** (recorded).",
    ]


def notifier(r: dict[str, Any]) -> list[str]:
    """Deliveries per second and the signing cost."""
    return [
        f"{r['deliveries']} deliveries in {r['seconds']} s: **{r['per_second']}/s** "
        f"(concurrency {r['concurrency']}); signing {r['signing_us_per_delivery']} µs each "
        "(recorded)."
    ]


def static(r: dict[str, Any]) -> list[str]:
    """The static stage beside Semgrep alone."""
    b = r["best"]
    return [
        f"{r['files']} Python files ({r['megabytes']} MB), best of the runs: Semgrep alone "
        f"{b['semgrep']['seconds']} s, static stage {b['stage']['seconds']} s.",
        f"Overhead **{float(r['overhead']):.1%}** (target < {float(r['target_overhead']):.0%}:"
        f" {_met(r['met'])}).",
    ]


def pipeline(r: dict[str, Any]) -> list[str]:
    """Per tree: medians of direct scanners and the whole pipeline, against the target."""
    lines = [
        f"POST to signed webhook vs Semgrep + betterleaks directly; medians; LLM: {r['llm']}.",
        "",
        "| tree | files | direct s | pipeline s | ratio | target < 1.2 x direct + 1 s |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in r["sizes"].items():
        lines.append(
            f"| {name} | {s['files']} | {s['direct_median']} | {s['pipeline_median']} | "
            f"{s['ratio']} | {s['limit']} s: {_met(s['met'])} |"
        )
    return lines


def throughput(r: dict[str, Any]) -> list[str]:
    """Scans per minute by processes per worker."""
    lines = [
        f"{r['batch']} scans of {r['files_per_scan']} files at once (recorded).",
        "",
        "| processes per worker | scans/min | speed-up | completed |",
        "|---|---|---|---|",
    ]
    for n, run in r["replicas"].items():
        lines.append(
            f"| {n} | {run['scans_per_minute']} | {run['speedup']} | "
            f"{run['completed']}/{run['scans']} |"
        )
    return lines


def load(r: dict[str, Any]) -> list[str]:
    """Locust's totals and each endpoint's latency."""
    t = r["total"]
    lines = [
        f"{r['tool']}, {r['users']} users, {r['orgs']} organisations, {r['seconds']} s: "
        f"**{t['rps']} req/s**, p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms, "
        f"{t['failures']} failures of {t['requests']} (recorded).",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | failures |",
        "|---|---|---|---|---|",
    ]
    for name, e in r["endpoints"].items():
        lines.append(f"| {name} | {e['rps']} | {e['p50_ms']} | {e['p99_ms']} | {e['failures']} |")
    return lines


SECTIONS: Final[dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]]] = {
    "gateway": ("Gateway reads (`bench/gateway.py`)", gateway),
    "ingest": ("Ingest (`bench/ingest.py`)", ingest),
    "static": ("Static stage (`bench/static.py`)", static),
    "notifier": ("Notifier (`bench/notifier.py`)", notifier),
    "pipeline": ("End-to-end latency (`bench/pipeline.py`)", pipeline),
    "throughput": ("Throughput (`bench/throughput.py`)", throughput),
    "load": ("Load test (`make load`, `bench/loadtest/`)", load),
}


def section(name: str) -> list[str]:
    """One benchmark's heading and figures, or why there are none."""
    title, render = SECTIONS[name]
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return [f"## {title}", "", "Not run.", ""]
    results = json.loads(path.read_text())
    try:
        body = render(results)
    except (KeyError, TypeError, ValueError) as exc:  # a result file of another version
        body = [f"Unreadable results ({type(exc).__name__}: {exc}); see `{path.name}`."]
    return [f"## {title}", "", f"Run on {results.get('date', '?')}.", "", *body, ""]


def main() -> None:
    """Write bench/results.md and print it."""
    lines = [
        "# Benchmark results",
        "",
        f"Collected {time.strftime('%Y-%m-%d %H:%M')} by `bench/collect.py` from "
        "`bench/results/*.json`. Machine:",
        "",
        *machine(),
        "",
    ]
    for name in SECTIONS:
        lines += section(name)
    (HERE / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
