"""Verifying Vigil's webhook deliveries on the receiving side (standard library only).

Vigil signs every delivery twice. Check the Standard Webhooks signature when you can: it
covers the delivery's id and time, so a replayed or delayed delivery is refused. The
``X-Vigil-Signature`` scheme (HMAC-SHA256 of the body) is there for receivers that only
handle that one. During a secret rotation each header carries one signature per valid secret;
one match is enough. Deduplicate on ``webhook-id``: delivery is at least once.

    from vigil_client import verify, InvalidSignature

    try:
        event = verify(request_body, request_headers, secret="whsec_...")
    except InvalidSignature:
        return 401
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, Final

TOLERANCE_SECONDS: Final = 300


class InvalidSignature(Exception):
    """The delivery was not signed with this secret, was altered, or is too old."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _standard_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def _standard_valid(body: bytes, headers: Mapping[str, str], secret: str, now: float) -> bool:
    msg_id, stamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    offered = _header(headers, "webhook-signature")
    if not (msg_id and stamp and offered):
        return False
    try:
        sent_at = int(stamp)
    except ValueError:
        return False
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        raise InvalidSignature("the delivery's timestamp is too far from now (a replay?)")
    digest = hmac.new(_standard_key(secret), f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256)
    expected = base64.b64encode(digest.digest()).decode()
    candidates = [part.split(",", 1)[-1] for part in offered.split()]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def _vigil_valid(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    offered = _header(headers, "X-Vigil-Signature")
    if not offered:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered.split())


def verify(
    body: bytes, headers: Mapping[str, str], secret: str, *, now: float | None = None
) -> dict[str, Any]:
    """The delivery's event, once its signature checks out; :class:`InvalidSignature` if not.

    ``body`` must be the raw bytes received, before any JSON parsing.
    """
    moment = time.time() if now is None else now
    try:
        valid = _standard_valid(body, headers, secret, moment)
        if not valid and _header(headers, "webhook-signature") is None:
            valid = _vigil_valid(body, headers, secret)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignature(f"malformed secret or signature: {exc}") from None
    if not valid:
        raise InvalidSignature("no signature matches this secret")
    event: dict[str, Any] = json.loads(body)
    return event
