"""Every JetStream stream, subject and durable consumer name Vigil uses, defined once."""

from __future__ import annotations

from typing import Final, Literal

import msgspec

STREAM: Final = "VIGIL_SCANS"
STREAM_SUBJECTS: Final = ("vigil.scan.>",)

SCAN_REQUESTED: Final = "vigil.scan.requested"
SCAN_INGESTED: Final = "vigil.scan.ingested"
SCAN_STATIC_DONE: Final = "vigil.scan.static_done"
SCAN_HUNTED: Final = "vigil.scan.hunted"
SCAN_COMPLETED: Final = "vigil.scan.completed"
SCAN_FAILED: Final = "vigil.scan.failed"
FINDING_TRIAGED: Final = "vigil.scan.finding_triaged"

# Core NATS (not stored): every gateway replica evicts a revoked key from its cache at once.
KEYS_REVOKED: Final = "vigil.keys.revoked"

# JetStream key-value bucket: the gateway's MCP sessions, shared by every replica.
MCP_SESSIONS_BUCKET: Final = "VIGIL_MCP_SESSIONS"

Stage = Literal["ingest", "static", "hunt", "validate", "notify"]


class ConsumerSpec(msgspec.Struct, frozen=True):
    """One pipeline stage's durable pull consumer: what it reads and how its work is named."""

    durable: str
    filter_subjects: tuple[str, ...]
    stage: Stage


INGEST: Final = ConsumerSpec("ingest", (SCAN_REQUESTED,), "ingest")
STATIC_SCAN: Final = ConsumerSpec("static-scan", (SCAN_INGESTED,), "static")
AI_HUNTER: Final = ConsumerSpec("ai-hunter", (SCAN_STATIC_DONE,), "hunt")
VALIDATOR: Final = ConsumerSpec("validator", (SCAN_HUNTED,), "validate")
NOTIFIER: Final = ConsumerSpec("notifier", (SCAN_COMPLETED, SCAN_FAILED, FINDING_TRIAGED), "notify")

ALL_CONSUMERS: Final = (INGEST, STATIC_SCAN, AI_HUNTER, VALIDATOR, NOTIFIER)


def max_deliveries_advisory(durable: str) -> str:
    """Subject of the advisory the server publishes when a message exhausts ``max_deliver``."""
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{STREAM}.{durable}"
