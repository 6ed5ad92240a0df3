"""The client's plumbing: one transport, JSON decoding into models, idempotent creation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeVar

import msgspec

from vigil_client.errors import VigilError
from vigil_client.transport import RetryPolicy, Transport

T = TypeVar("T")
Query = Mapping[str, str | int | Sequence[str] | None]


def params_of(query: Query) -> dict[str, str | int]:
    """Query parameters without ``None``s; lists joined by commas (the API's convention)."""
    params: dict[str, str | int] = {}
    for name, value in query.items():
        if value is None:
            continue
        params[name] = value if isinstance(value, str | int) else ",".join(value)
    return params


def new_idempotency_key() -> dict[str, str]:
    """A fresh ``Idempotency-Key`` header: one per logical call, kept across its retries."""
    return {"Idempotency-Key": str(uuid.uuid4())}


class BaseClient:
    """One gateway, one key: sends, decodes, and gives every creating POST a fresh
    ``Idempotency-Key`` that the call's retries reuse."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = Transport(base_url, api_key, timeout=timeout, retry=retry, sleep=sleep)
        self._sleep = sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def _call(self, kind: type[T], method: str, url: str, **kwargs: Any) -> T:
        response = self.transport.request(method, url, **kwargs)
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError as exc:
            raise VigilError(
                "bad_response", f"{method} {url}: {exc}", status=response.status_code
            ) from None

    def _create(self, kind: type[T], url: str, **kwargs: Any) -> T:
        headers = {**kwargs.pop("headers", {}), **new_idempotency_key()}
        return self._call(kind, "POST", url, headers=headers, **kwargs)
