"""The scan's security score (0-100) and letter grade (A-F) from its reported findings.

Each reported finding costs points by severity, scaled by confidence; the score is 100 minus
the cost, floored at 0. The grade follows the score. One high-confidence critical finding
alone gives 60, a D; one high gives 85, a B. Filtered findings cost nothing. The formula is
documented in docs/ai.md and tested as a table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final, Literal

from vigil_common.schemas import Confidence, Severity

Grade = Literal["A", "B", "C", "D", "F"]

SEVERITY_POINTS: Final[dict[str, float]] = {
    "critical": 40,
    "high": 15,
    "medium": 5,
    "low": 1,
    "info": 0,
}
CONFIDENCE_FACTOR: Final[dict[str, float]] = {"high": 1.0, "medium": 0.75, "low": 0.5}
# Lowest score for each grade, best first; below the last is F.
GRADE_FLOORS: Final[tuple[tuple[int, Grade], ...]] = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))


def score(findings: Iterable[tuple[Severity, Confidence]]) -> int:
    """100 minus the confidence-weighted severity points of the reported findings, at least 0."""
    cost = sum(SEVERITY_POINTS[sev] * CONFIDENCE_FACTOR[conf] for sev, conf in findings)
    # Rounded half up (Python's round() rounds half to even, which reads as a bug in a table).
    return max(0, math.floor(100 - cost + 0.5))


def grade(value: int) -> Grade:
    """The letter for a score: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, F below."""
    return next((letter for floor, letter in GRADE_FLOORS if value >= floor), "F")
