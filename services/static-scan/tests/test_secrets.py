"""The secret-scanner adapter: recorded real reports parse to masked findings, never secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_common.schemas import Finding
from vigil_static_scan.scanners import secrets

FIXTURES = Path(__file__).parent / "fixtures" / "betterleaks"
# The planted (fake) secrets of the recorded report, by file line.
SETTINGS_PY = [
    'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',
    'STRIPE_KEY = "sk_live_51HfakeFAKEfake0123456789abcdefghijklmnopqrstuvwx"',
    'GITHUB_TOKEN = "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"',
    'password = "changeme"',
]


def read_snippet(path: str, start: int, end: int) -> str:
    assert path == "app/settings.py"
    return "\n".join(SETTINGS_PY[start - 1 : end])


def parse(name: str) -> list[Finding]:
    return secrets.parse(secrets.decode_report((FIXTURES / name).read_bytes()), read_snippet)


def test_empty_report_has_no_findings() -> None:
    assert parse("empty.json") == []


def test_findings_are_masked_everywhere_and_placeholders_downgraded() -> None:
    stripe, password = parse("two_findings.json")
    assert (stripe.rule_id, stripe.severity, stripe.confidence) == (
        "stripe-access-token", "high", "high",
    )  # fmt: skip
    assert stripe.evidence == "sk_live_****uvwx"
    assert stripe.snippet == 'STRIPE_KEY = "sk_live_****uvwx"'
    assert stripe.cwe == ("CWE-798",)
    assert (stripe.file_path, stripe.start_line) == ("app/settings.py", 2)
    assert (password.severity, password.confidence) == ("info", "low")
    assert password.title.startswith("Placeholder credential")
    for finding in (stripe, password):
        stored = repr(finding)
        assert "0123456789abcdefghijklmnopqrstuvwx" not in stored
        assert "changeme" not in stored


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("sk_live_51HfakeFAKEfake0123456789abcdef", "sk_live_****cdef"),
        ("ghp_1234567890abcdefghijklmnopqrstuvwxyzAB", "ghp_****yzAB"),
        ("xoxb-123456789012-abcdefghij", "xoxb-****ghij"),
        ("AbCdEfGhIjKlMnOp", "****MnOp"),
        ("short", "****"),
    ],
)
def test_mask_keeps_the_kind_and_the_last_four(secret: str, masked: str) -> None:
    assert secrets.mask(secret) == masked


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [("changeme", True), ("AKIAIOSFODNN7EXAMPLE", True), ("sk_test_abc123", True),
     ("${DB_PASSWORD}", True), ("your_api_key", True), ("sk_live_9f8e7d6c5b4a", False)],
)  # fmt: skip
def test_known_placeholders_are_recognised(value: str, placeholder: bool) -> None:
    assert secrets.is_placeholder(value) is placeholder
