"""The AI hunter service process: consumes ``scan.static_done``."""

from __future__ import annotations

from vigil_ai_hunter.handlers import make_handler
from vigil_common.schemas import ScanStaticDone
from vigil_common.subjects import AI_HUNTER
from vigil_common.worker import run_stage


def main() -> None:
    """Run the AI hunter until SIGTERM; it waits on a model server, so several scans at once."""
    run_stage("ai-hunter", AI_HUNTER, ScanStaticDone, make_handler, default_concurrency=4)
