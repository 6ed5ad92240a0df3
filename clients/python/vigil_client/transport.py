"""HTTP for the client: auth headers, timeouts, retries with backoff, errors in one type.

A call is retried when the gateway answers 429 or 503 (waiting ``Retry-After`` when given),
and on connection errors when repeating it cannot do twice what it did once: the request
never reached the server (connect failed), or it is idempotent (GET, PUT, PATCH, DELETE, or
a POST carrying an ``Idempotency-Key``, which the gateway replays instead of repeating).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx2
import msgspec

from vigil_client.errors import VigilError
from vigil_client.models import ErrorResponse

log = logging.getLogger(__name__)

RETRY_STATUSES: Final = frozenset({429, 503})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
USER_AGENT: Final = "vigil-client-python/0.1.0"
_ERROR_DECODER: Final = msgspec.json.Decoder(ErrorResponse)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: exponential backoff with jitter, capped."""

    max_retries: int = 4
    backoff: float = 0.5
    max_wait: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        # Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads the
        # retries of many CI jobs that failed at the same moment.
        return min(self.backoff * 2.0**attempt, self.max_wait) * (0.5 + random.random() / 2)  # noqa: S311


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def api_error(response: httpx2.Response) -> VigilError:
    """The API's error from a failed response (or a plain one if the body is not the API's)."""
    try:
        body = _ERROR_DECODER.decode(response.content).error
    except msgspec.DecodeError:
        text = response.text.strip()[:200] or response.reason_phrase
        return VigilError("http_error", text, status=response.status_code)
    return VigilError(
        body.code,
        body.message,
        status=response.status_code,
        details=body.details,
        request_id=body.request_id,
    )


class Transport:
    """Sends requests to one gateway with one key, retrying as the module docstring says."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx2.Client | None = None,
    ) -> None:
        headers = {"User-Agent": USER_AGENT}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.http = http or httpx2.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.headers = headers
        self.retry = retry or RetryPolicy()
        self.sleep = sleep

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        **kwargs: Any,
    ) -> httpx2.Response:
        """Send with retries; return a 2xx response or raise :class:`VigilError`."""
        sent = {**(self.headers if authenticated else {}), **(headers or {})}
        idempotent = method in IDEMPOTENT_METHODS or "Idempotency-Key" in sent
        for attempt in range(self.retry.max_retries + 1):
            last = attempt == self.retry.max_retries
            try:
                response = self.http.request(method, url, headers=sent, **kwargs)
            except httpx2.TransportError as exc:
                safe = idempotent or isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
                if last or not safe:
                    raise _transport_error(exc) from exc
                self._pause(attempt, None, method, url, type(exc).__name__)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                self._pause(attempt, wait, method, url, str(response.status_code))
                continue
            if response.is_success:
                return response
            raise api_error(response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(
        self, attempt: int, retry_after: float | None, method: str, url: str, why: str
    ) -> None:
        delay = self.retry.delay(attempt, retry_after)
        # Without the query: a presigned URL's signature is a credential.
        log.debug("retrying %s %s in %.1f s after %s", method, url.partition("?")[0], delay, why)
        self.sleep(delay)


def _transport_error(exc: httpx2.TransportError) -> VigilError:
    if isinstance(exc, httpx2.TimeoutException):
        return VigilError("timeout", f"the request timed out ({type(exc).__name__})")
    return VigilError("connection_error", f"could not reach the API: {exc}")
