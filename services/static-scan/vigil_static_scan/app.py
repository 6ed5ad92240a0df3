"""The static-scan service process: consumes ``scan.ingested``."""

from __future__ import annotations

from vigil_common.schemas import ScanIngested
from vigil_common.subjects import STATIC_SCAN
from vigil_common.worker import run_stage
from vigil_static_scan.handlers import make_handler


def main() -> None:
    """Run static scanning until SIGTERM; CPU-bound, so one scan per process (scale by replicas)."""
    run_stage("static-scan", STATIC_SCAN, ScanIngested, make_handler, default_concurrency=1)
