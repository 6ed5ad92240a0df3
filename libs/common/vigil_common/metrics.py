"""Prometheus metrics shared by the services. Names carry units; labels stay bounded."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

STAGE_SECONDS: Final = Histogram(
    "vigil_stage_seconds",
    "Time a pipeline stage spent handling one message.",
    ["stage", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
MESSAGES: Final = Counter(
    "vigil_messages_total",
    "Pipeline messages settled, by stage and outcome (ack, retry, reject, error, gave_up).",
    ["stage", "outcome"],
)
IN_FLIGHT: Final = Gauge(
    "vigil_messages_in_flight", "Messages a stage is handling right now.", ["stage"]
)
SCANS_FINISHED: Final = Counter(
    "vigil_scans_finished_total", "Scans that reached a terminal status.", ["status"]
)
HTTP_REQUESTS: Final = Counter(
    "vigil_http_requests_total",
    "Gateway requests by route and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS: Final = Histogram(
    "vigil_http_request_seconds", "Gateway request latency by route.", ["method", "route"]
)
FINDINGS: Final = Counter(
    "vigil_findings_total",
    "Candidate findings written, by scanner and severity.",
    ["scanner", "severity"],
)
