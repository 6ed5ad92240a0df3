"""Encoded ``GET /v1/scans/{id}`` answers, sent again while the scan's row is unchanged.

CI jobs and dashboards poll a scan far more often than it changes. Each answer still reads the
row's version (PostgreSQL's ``xmin``, new on every update of the row, and the row holds
everything the answer shows: status, history, counts, scores, usage); when it matches the
version the cached bytes were encoded from, they are sent again without fetching, decoding and
re-encoding the whole scan. Nothing needs invalidating, so every replica is correct on its own.
Not cached: answers with findings, and queued scans, whose queue position moves when other
scans change.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Final

from aiohttp import web

CAPACITY: Final = 10_000


class ScanAnswers:
    """The last encoded answer per scan, with the organisation and row version it was for."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[uuid.UUID, tuple[uuid.UUID, str, bytes]] = OrderedDict()

    def get(self, scan_id: uuid.UUID, org_id: uuid.UUID, version: str) -> bytes | None:
        """The body encoded from this version of the scan for this organisation, if kept."""
        entry = self._entries.get(scan_id)
        if entry is None or entry[0] != org_id or entry[1] != version:
            return None
        self._entries.move_to_end(scan_id)
        return entry[2]

    def put(self, scan_id: uuid.UUID, org_id: uuid.UUID, version: str, body: bytes) -> None:
        """Keep ``body`` as the answer for this version; the least recently used goes first."""
        self._entries[scan_id] = (org_id, version, body)
        self._entries.move_to_end(scan_id)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


SCAN_ANSWERS: Final = web.AppKey("scan_answers", ScanAnswers)
