"""The notifier service process: consumes ``scan.completed``, ``scan.failed`` and
``finding.triaged``, and runs the webhook delivery loop beside the consumer."""

from __future__ import annotations

from vigil_common.schemas import NotifierEvent
from vigil_common.subjects import NOTIFIER
from vigil_common.worker import run_stage
from vigil_notifier.handlers import make_handler
from vigil_notifier.scheduler import deliver_forever


def main() -> None:
    """Run the notifier until SIGTERM; deliveries wait on the network, so many at once."""
    run_stage(
        "notifier",
        NOTIFIER,
        NotifierEvent,
        make_handler,
        default_concurrency=16,
        background=deliver_forever,
    )
