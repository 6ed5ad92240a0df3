"""Which outcomes retry, which stop, and when the next attempt is due."""

from __future__ import annotations

import datetime as dt

import pytest

from vigil_common.config import SettingsError, load_settings
from vigil_notifier.policy import Outcome, next_delay, parse_retry_after, parse_schedule, verdict

SCHEDULE = parse_schedule("0,5,300,1800,7200,18000,36000,36000")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (None, "retry"),
        (500, "retry"),
        (503, "retry"),
        (408, "retry"),
        (429, "retry"),
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (301, "failed"),
        (410, "gone"),
    ],
)
def test_verdicts(status: int | None, expected: str) -> None:
    assert verdict(Outcome(status=status, latency_ms=1)) == expected


def test_the_default_schedule_is_immediately_then_5s_5min_30min_2h_5h_10h_10h() -> None:
    assert SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert [next_delay(SCHEDULE, n, None) for n in range(1, 8)] == list(SCHEDULE[1:])
    assert next_delay(SCHEDULE, 8, None) is None


def test_retry_after_is_a_floor_capped_by_the_longest_step() -> None:
    assert next_delay(SCHEDULE, 1, 60) == 60
    assert next_delay(SCHEDULE, 2, 60) == 300
    assert next_delay(SCHEDULE, 1, 10**9) == 36000


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Thu, 01 Jan 2026 12:02:00 GMT", now) == 120
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_malformed_schedule_stops_start_up_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="VIGIL_WEBHOOK_RETRY_SCHEDULE is invalid"):
        load_settings({"VIGIL_WEBHOOK_RETRY_SCHEDULE": "0,5min"})
    shrunk = load_settings({"VIGIL_WEBHOOK_RETRY_SCHEDULE": "0,0.5,1"})
    assert parse_schedule(shrunk.webhook_retry_schedule) == (0, 0.5, 1)
