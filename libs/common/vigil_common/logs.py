"""JSON log lines for every service, carrying the current scan id from a context variable."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Final

current_scan_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_scan_id", default=None
)

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, scan id and extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line."""
        line: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        scan_id = current_scan_id.get()
        if scan_id:
            line["scan_id"] = scan_id
        line.update(
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRS
        )
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Send the root logger to stderr as JSON lines (``fmt="text"`` for humans)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # These libraries log every request or retry at INFO; keep our lines readable.
    for noisy in ("aiohttp.access", "botocore", "boto3", "urllib3", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def scan_context(scan_id: object) -> Iterator[None]:
    """Tag every log line written inside the block with ``scan_id``."""
    token = current_scan_id.set(str(scan_id))
    try:
        yield
    finally:
        current_scan_id.reset(token)
