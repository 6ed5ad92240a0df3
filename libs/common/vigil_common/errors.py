"""Vigil's error tree for workers and libraries.

::

    VigilError                 base of every error Vigil raises on purpose
    ├── Retry(delay)           transient: the loop naks the message and it comes back after delay
    ├── Reject(reason)         permanent: the loop terminates the message and fails the scan
    └── StorageError           the object store failed (wrapped boto3 error)

Third-party errors are wrapped at the adapter boundary (``raise Retry(...) from exc``). Anything
else a handler raises is treated as transient until the last delivery, when the scan fails.
"""

from __future__ import annotations


class VigilError(Exception):
    """Base of every error Vigil raises deliberately."""


class Retry(VigilError):
    """The work may succeed later: redeliver the message after ``delay`` seconds."""

    def __init__(self, reason: str, *, delay: float = 5.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Reject(VigilError):
    """The work can never succeed: stop redelivering and fail the scan with ``reason``.

    ``reason`` is shown to the user who submitted the scan: say what was wrong and what to do.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StorageError(VigilError):
    """The object store refused or failed an operation."""
