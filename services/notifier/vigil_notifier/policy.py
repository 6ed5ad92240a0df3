"""What an attempt's outcome means: delivered, retry later, give up, or the endpoint is gone.

Retried: network errors, timeouts, 408, 429 and 5xx (``Retry-After`` is honoured as a floor).
Given up: other 4xx and redirects (never followed: a redirect could point inside the network).
410 Gone also disables the endpoint, as the receiver asked.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Final, Literal

import msgspec

Verdict = Literal["delivered", "retry", "failed", "gone"]
RETRYABLE_4XX: Final = frozenset({408, 429})


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """The result of one attempt; ``status`` is ``None`` when no response came back."""

    status: int | None
    latency_ms: int
    error: str | None = None
    retry_after: float | None = None


def verdict(outcome: Outcome) -> Verdict:
    """Classify an attempt."""
    status = outcome.status
    if status is None or status >= 500 or status in RETRYABLE_4XX:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    return "gone" if status == 410 else "failed"


def parse_schedule(text: str) -> tuple[float, ...]:
    """``VIGIL_WEBHOOK_RETRY_SCHEDULE`` as delays in seconds (validated by the settings)."""
    return tuple(float(part) for part in text.split(","))


def next_delay(
    schedule: tuple[float, ...], attempts: int, retry_after: float | None
) -> float | None:
    """Seconds until the next attempt after ``attempts`` attempts, or ``None``: give up.

    ``schedule[n]`` is the delay before attempt ``n + 1``; a ``Retry-After`` longer than the
    schedule's step wins, up to the schedule's longest step.
    """
    if attempts >= len(schedule):
        return None
    step = schedule[attempts]
    if retry_after is None:
        return step
    return max(step, min(retry_after, max(schedule)))


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
