"""CVSS v3.x base scores from a vector string, as the FIRST specification computes them.

https://www.first.org/cvss/v3.1/specification-document, section 7.1 (base metrics) and
Appendix A (Roundup). v3.0 vectors use the same equations; v2 and v4 vectors are not scored.
"""

from __future__ import annotations

import math
from typing import Final

from vigil_common.schemas import Severity

_WEIGHTS: Final[dict[str, dict[str, float]]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges required weigh more when the scope changes.
_PR: Final[dict[tuple[str, str], float]] = {
    ("N", "U"): 0.85,
    ("L", "U"): 0.62,
    ("H", "U"): 0.27,
    ("N", "C"): 0.85,
    ("L", "C"): 0.68,
    ("H", "C"): 0.5,
}


def base_score(vector: str) -> float | None:
    """The base score of a ``CVSS:3.x/AV:N/...`` vector, or None when it is not one."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in {"CVSS:3.0", "CVSS:3.1"}:
        return None
    metrics = dict(part.split(":", 1) for part in parts[1:] if ":" in part)
    try:
        scope = metrics["S"]
        weights = {key: table[metrics[key]] for key, table in _WEIGHTS.items()}
        privileges = _PR[(metrics["PR"], scope)]
    except KeyError:
        return None
    if scope not in {"U", "C"}:
        return None
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    changed = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    impact = 6.42 * iss if scope == "U" else changed
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _roundup(min(total, 10.0))


def _roundup(value: float) -> float:
    """Appendix A: the smallest one-decimal number >= value, immune to float noise."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10.0


def rating(score: float) -> Severity:
    """The qualitative rating of a base score (specification section 5); 0.0 is info."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "info"
