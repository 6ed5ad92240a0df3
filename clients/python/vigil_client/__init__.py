"""Python client for Vigil: the typed API client, the ``vigil`` CLI, webhook verification."""

from vigil_client.client import VigilClient
from vigil_client.errors import VigilError
from vigil_client.transport import RetryPolicy
from vigil_client.webhooks import InvalidSignature, verify

__all__ = ["InvalidSignature", "RetryPolicy", "VigilClient", "VigilError", "verify"]
