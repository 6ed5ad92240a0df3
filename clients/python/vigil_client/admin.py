"""Keys and webhook endpoints: the organisation's administration through the client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from vigil_client.base import BaseClient, params_of
from vigil_client.models import (
    Delivery,
    DeliveryPage,
    Key,
    KeyList,
    NewKey,
    NewWebhook,
    RotatedSecret,
    Webhook,
    WebhookList,
)


class AdminClient(BaseClient):
    """API keys (``keys:manage``) and webhook endpoints (``webhooks:manage``)."""

    # -- keys -------------------------------------------------------------------------------

    def list_keys(self) -> list[Key]:
        """Every key of the organisation (never the keys themselves)."""
        return self._call(KeyList, "GET", "/v1/keys").items

    def create_key(
        self,
        name: str,
        *,
        scopes: Sequence[str] | None = None,
        expires_at: dt.datetime | None = None,
    ) -> NewKey:
        """A new key; ``NewKey.key`` is shown this once."""
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return self._create(NewKey, "/v1/keys", json=body)

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key, at once on every replica."""
        self.transport.request("DELETE", f"/v1/keys/{key_id}")

    # -- webhooks ---------------------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        """Every webhook endpoint of the organisation."""
        return self._call(WebhookList, "GET", "/v1/webhooks").items

    def create_webhook(
        self, url: str, *, event_types: Sequence[str] | None = None, description: str = ""
    ) -> NewWebhook:
        """A new endpoint; ``NewWebhook.secret`` is shown this once."""
        body: dict[str, Any] = {"url": url, "description": description}
        if event_types is not None:
            body["event_types"] = list(event_types)
        return self._create(NewWebhook, "/v1/webhooks", json=body)

    def update_webhook(self, endpoint_id: str, **changes: Any) -> Webhook:
        """``PATCH /v1/webhooks/{id}``: url, event_types, description, enabled."""
        return self._call(Webhook, "PATCH", f"/v1/webhooks/{endpoint_id}", json=changes)

    def delete_webhook(self, endpoint_id: str) -> None:
        """Delete an endpoint and its delivery log."""
        self.transport.request("DELETE", f"/v1/webhooks/{endpoint_id}")

    def rotate_webhook_secret(self, endpoint_id: str) -> RotatedSecret:
        """A new secret (shown once); the old one keeps signing for the grace period."""
        return self._call(RotatedSecret, "POST", f"/v1/webhooks/{endpoint_id}/rotate-secret")

    def list_deliveries(
        self, endpoint_id: str, *, cursor: str | None = None, limit: int | None = None
    ) -> DeliveryPage:
        """One page of an endpoint's deliveries, newest first."""
        params = params_of({"cursor": cursor, "limit": limit})
        url = f"/v1/webhooks/{endpoint_id}/deliveries"
        return self._call(DeliveryPage, "GET", url, params=params)

    def redeliver(self, endpoint_id: str, delivery_id: str) -> Delivery:
        """Send a delivery's event again (same event id)."""
        url = f"/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"
        return self._call(Delivery, "POST", url)
