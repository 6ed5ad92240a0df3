"""Python client for Vigil."""

from vigil_client.webhooks import InvalidSignature, verify

__all__ = ["InvalidSignature", "verify"]
