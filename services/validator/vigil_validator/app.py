"""The validator service process: consumes ``scan.hunted``."""

from __future__ import annotations

from vigil_common.schemas import ScanHunted
from vigil_common.subjects import VALIDATOR
from vigil_common.worker import run_stage
from vigil_validator.handlers import make_handler


def main() -> None:
    """Run the validator until SIGTERM."""
    run_stage("validator", VALIDATOR, ScanHunted, make_handler, default_concurrency=2)
