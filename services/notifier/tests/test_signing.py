"""Signatures match the Standard Webhooks reference vector and list every valid secret."""

from __future__ import annotations

import hashlib
import hmac

from vigil_notifier.signing import signed_headers, standard_signature, vigil_signature

# The vector published with the Standard Webhooks reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_standard_signature_reproduces_the_reference_vector() -> None:
    assert standard_signature([SECRET], MSG_ID, TIMESTAMP, BODY) == EXPECTED


def test_the_vigil_signature_is_the_hex_hmac_of_the_body_keyed_with_the_secret_text() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert vigil_signature([SECRET], BODY) == f"sha256={expected}"


def test_several_secrets_give_space_separated_signatures_newest_first() -> None:
    other = "whsec_" + "A" * 44
    both = standard_signature([other, SECRET], MSG_ID, TIMESTAMP, BODY).split(" ")
    assert len(both) == 2
    assert both[1] == EXPECTED
    assert len(vigil_signature([other, SECRET], BODY).split(" ")) == 2


def test_headers_carry_the_id_timestamp_and_both_schemes() -> None:
    headers = signed_headers([SECRET], MSG_ID, TIMESTAMP, BODY)
    assert headers["webhook-id"] == MSG_ID
    assert headers["webhook-timestamp"] == str(TIMESTAMP)
    assert headers["webhook-signature"] == EXPECTED
    assert headers["X-Vigil-Signature"].startswith("sha256=")
    assert headers["Content-Type"] == "application/json"


def test_a_delivery_without_secret_is_sent_unsigned() -> None:
    headers = signed_headers([], MSG_ID, TIMESTAMP, BODY)
    assert "webhook-signature" not in headers
    assert "X-Vigil-Signature" not in headers
