"""Rendering results for people (tables) and for programs (JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

from vigil_client.models import Finding, Scan

_ENCODER: Final = msgspec.json.Encoder(order="deterministic")


def to_json(value: Any) -> str:
    """Pretty JSON of a Struct, a list of them, or plain data."""
    return msgspec.json.format(_ENCODER.encode(value), indent=2).decode() + "\n"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def findings_table(findings: Sequence[Finding]) -> str:
    """Findings, one a line: severity, rule, location, validity, title."""
    rows = [
        (f.severity, f.rule_id, f"{f.file_path}:{f.start_line}", f.validity, f.title, f.id)
        for f in findings
    ]
    return table(("SEVERITY", "RULE", "LOCATION", "VALIDITY", "TITLE", "ID"), rows)


def scan_summary(scan: Scan) -> str:
    """One paragraph about a scan: id, status, score and counts."""
    counts = ", ".join(f"{n} {s}" for s, n in sorted(scan.finding_counts.items()) if n) or "none"
    lines = [f"scan {scan.id} ({scan.project}): {scan.status}"]
    if scan.error:
        lines.append(f"error: {scan.error}")
    if scan.score is not None:
        lines.append(f"score {scan.score} grade {scan.grade}")
    lines.append(f"findings: {counts}")
    return "\n".join(lines) + "\n"
