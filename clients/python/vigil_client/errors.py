"""The one exception the client raises: the API's error code, message and details."""

from __future__ import annotations

from typing import Any


class VigilError(Exception):
    """A failed call. ``status`` is the HTTP status (``None`` when no answer came back);
    ``code``, ``message`` and ``details`` are the API's (docs/errors.md), or the client's own
    (``connection_error``, ``timeout``, ``bad_response``, ``scan_timeout``) when it had none."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if status is None else f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}
        self.request_id = request_id
