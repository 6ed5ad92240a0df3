"""Sealing secrets Vigil must use later but never store or send in the clear.

Per-request git tokens travel to ingest sealed inside the JetStream message; webhook secrets
rest sealed in PostgreSQL until the notifier signs with them. AES-256-GCM with a random nonce
from the ``cryptography`` library; the key is ``VIGIL_SEALING_KEY`` (32 bytes, base64url),
shared by the services that seal and unseal. Each sealed value is bound to a purpose
(associated data), so a sealed webhook secret cannot be replayed as a git token.
"""

from __future__ import annotations

import base64
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigil_common.errors import VigilError

VERSION: Final = "v1"
_NONCE_BYTES: Final = 12


class SealingError(VigilError):
    """A value could not be sealed or unsealed (no key, wrong key, tampered)."""


def generate_key() -> str:
    """A new random sealing key, in the form ``VIGIL_SEALING_KEY`` takes."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _cipher(key: str | None) -> AESGCM:
    if not key:
        raise SealingError("VIGIL_SEALING_KEY is not set: this server cannot keep secrets")
    try:
        raw = base64.urlsafe_b64decode(key.encode() + b"=" * (-len(key) % 4))
    except ValueError:
        raise SealingError("VIGIL_SEALING_KEY is not base64url") from None
    if len(raw) != 32:
        raise SealingError("VIGIL_SEALING_KEY must encode exactly 32 bytes")
    return AESGCM(raw)


def seal(plaintext: str, key: str | None, purpose: str) -> str:
    """Encrypt ``plaintext`` for ``purpose`` (e.g. ``"git-token"``); returns printable text."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(token: str, key: str | None, purpose: str) -> str:
    """The plaintext of a value sealed for ``purpose`` with ``key``."""
    version, _, body = token.partition(".")
    if version != VERSION or not body:
        raise SealingError("not a sealed value")
    try:
        data = base64.urlsafe_b64decode(body.encode())
        plain = _cipher(key).decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], purpose.encode())
    except (InvalidTag, ValueError):
        raise SealingError(
            "the sealed value was tampered with or sealed with another key"
        ) from None
    return plain.decode()
