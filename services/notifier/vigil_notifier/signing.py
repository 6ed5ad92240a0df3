"""Webhook signatures: ``X-Vigil-Signature`` and the Standard Webhooks headers.

Two schemes, both HMAC-SHA256 over the exact bytes sent:

- ``X-Vigil-Signature: sha256=<hex>`` over the body, keyed with the secret's UTF-8 text
  (the GitHub convention, easy to check with any HMAC helper);
- ``webhook-signature: v1,<base64>`` over ``"{webhook-id}.{webhook-timestamp}.{body}"``, per
  https://www.standardwebhooks.com/ (spec.md, "Signature scheme"). For ``whsec_`` secrets the
  key is the base64-decoded part after the prefix, as the spec's libraries expect.

During a secret rotation several secrets are valid: each header then lists one signature per
secret, separated by spaces, and a receiver accepts the delivery if any one matches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

WHSEC_PREFIX: Final = "whsec_"
VIGIL_SIGNATURE: Final = "X-Vigil-Signature"


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks HMAC key of ``secret``: base64-decoded after ``whsec_``."""
    if secret.startswith(WHSEC_PREFIX):
        return base64.b64decode(secret.removeprefix(WHSEC_PREFIX))
    return secret.encode()


def vigil_signature(secrets: Sequence[str], body: bytes) -> str:
    """The ``X-Vigil-Signature`` value: ``sha256=<hex>`` per secret."""
    return " ".join(
        "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        for secret in secrets
    )


def standard_signature(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64>`` per secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1,"
        + base64.b64encode(hmac.new(standard_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def signed_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Every header of a delivery: content type, ids and both signature schemes.

    A per-scan callback given without a secret is sent unsigned.
    """
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigil-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secrets:
        headers["webhook-signature"] = standard_signature(secrets, msg_id, timestamp, body)
        headers[VIGIL_SIGNATURE] = vigil_signature(secrets, body)
    return headers
