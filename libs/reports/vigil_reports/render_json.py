"""The ``json`` format: the report data itself, for programs."""

from __future__ import annotations

import msgspec

from vigil_reports.model import Report


def render(report: Report) -> bytes:
    """The whole :class:`Report` as indented JSON."""
    return msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"
