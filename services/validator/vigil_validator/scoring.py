"""The scan's security score (0-100) and letter grade (A-F) from its reported findings.

Each reported finding costs points by severity, scaled by confidence; the score is 100 minus
the cost, floored at 0. The grade follows the score. One high-confidence critical finding
alone gives 60, a D; one high gives 85, a B. Filtered findings cost nothing. The formulas live
in :mod:`vigil_common.scorecard` (the gateway re-scores a scan after a restore with them, and
computes launch readiness there too); they are documented in docs/ai.md and tested as tables.
"""

from __future__ import annotations

from vigil_common.scorecard import (
    CONFIDENCE_FACTOR,
    GRADE_FLOORS,
    SEVERITY_POINTS,
    Grade,
    grade,
    score,
)

__all__ = ["CONFIDENCE_FACTOR", "GRADE_FLOORS", "SEVERITY_POINTS", "Grade", "grade", "score"]
