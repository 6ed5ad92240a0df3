"""The client's verify() accepts what the notifier signs and refuses everything else."""

from __future__ import annotations

import time

import pytest

from vigil_client import InvalidSignature, verify
from vigil_notifier.signing import signed_headers

SECRET = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
OLD = "whsec_" + "b2xkLXNlY3JldC1zdGlsbC12YWxpZC1mb3ItYS1kYXk="
BODY = b'{"id": "evt_1", "type": "scan.completed", "data": {"scan_id": "s"}}'


def test_a_signed_delivery_verifies_and_returns_the_event() -> None:
    headers = signed_headers([SECRET], "evt_1", int(time.time()), BODY)
    assert verify(BODY, headers, SECRET)["type"] == "scan.completed"


def test_either_secret_verifies_during_a_rotation() -> None:
    headers = signed_headers([SECRET, OLD], "evt_1", int(time.time()), BODY)
    assert verify(BODY, headers, OLD)["id"] == "evt_1"


def test_only_the_vigil_signature_is_enough_for_receivers_that_use_it() -> None:
    headers = signed_headers([SECRET], "evt_1", int(time.time()), BODY)
    only_vigil = {"X-Vigil-Signature": headers["X-Vigil-Signature"]}
    assert verify(BODY, only_vigil, SECRET)["id"] == "evt_1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, b: (h, b.replace(b"completed", b"failed")), "no signature"),
        (lambda h, b: ({**h, "webhook-id": "evt_2"}, b), "no signature"),
        (lambda h, b: ({k: v for k, v in h.items() if "signature" not in k.lower()}, b), "no sig"),
        (lambda h, b: ({**h, "webhook-timestamp": str(int(time.time()) - 3600)}, b), "too far"),
    ],
)
def test_tampered_replayed_or_unsigned_deliveries_are_refused(change, message) -> None:  # type: ignore[no-untyped-def]
    headers = signed_headers([SECRET], "evt_1", int(time.time()), BODY)
    changed_headers, changed_body = change(headers, BODY)
    with pytest.raises(InvalidSignature, match=message):
        verify(changed_body, changed_headers, SECRET)


def test_another_secret_is_refused() -> None:
    headers = signed_headers([OLD], "evt_1", int(time.time()), BODY)
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, SECRET)
