"""The ingest service process: consumes ``scan.requested``."""

from __future__ import annotations

from vigil_common.schemas import ScanRequested
from vigil_common.subjects import INGEST
from vigil_common.worker import run_stage
from vigil_ingest.handlers import make_handler


def main() -> None:
    """Run ingest until SIGTERM; archives are CPU- and disk-bound, so one at a time."""
    run_stage("ingest", INGEST, ScanRequested, make_handler, default_concurrency=1)
