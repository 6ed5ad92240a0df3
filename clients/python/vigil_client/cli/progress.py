"""The scan's progress on stderr: one rewritten line on a terminal, plain lines otherwise
(CI logs keep every change and no control characters)."""

from __future__ import annotations

import itertools
from typing import Final, TextIO

from vigil_client.models import Scan

_SPINNER: Final = "|/-\\"


def describe(scan: Scan) -> str:
    """``running (static)``, ``queued (position 2)`` …"""
    if scan.queue_position:
        return f"{scan.status} (position {scan.queue_position} in the queue)"
    return f"{scan.status} ({scan.stage})" if scan.stage else scan.status


class Progress:
    """A callback for :meth:`VigilClient.wait_for_scan`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = ""
        self.spin = itertools.cycle(_SPINNER)

    def __call__(self, scan: Scan) -> None:
        text = f"scan {scan.id}: {describe(scan)}"
        if self.tty:
            end = "\n" if scan.finished else ""
            self.stream.write(f"\r\033[K{next(self.spin)} {text}{end}")
        elif text != self.last:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last = text
